"""``import crmql.dask``: a crmql query as a Dask DataFrame (:mod:`crmql.surfaces.dask_reader`).

>>> import crmql.dask
>>> crmql.dask.__all__
['read_crmql']
"""

from .surfaces.dask_reader import *  # noqa: F403 - the module's whole interface
from .surfaces.dask_reader import __all__  # noqa: F401
