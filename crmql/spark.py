"""``import crmql.spark``: crmql as a PySpark data source (:mod:`crmql.surfaces.spark`).

>>> import crmql.spark
>>> crmql.spark.CrmqlDataSource.name()
'crmql'
"""

from .surfaces.spark import *  # noqa: F403 - the module's whole interface
from .surfaces.spark import __all__  # noqa: F401
