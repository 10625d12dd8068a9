"""``import crmql.dbapi``: crmql's PEP 249 (DB-API 2.0) module (:mod:`crmql.surfaces.dbapi`).

>>> import crmql.dbapi
>>> crmql.dbapi.paramstyle
'named'
"""

from .surfaces.dbapi import *  # noqa: F403 - the module's whole interface
from .surfaces.dbapi import __all__  # noqa: F401
