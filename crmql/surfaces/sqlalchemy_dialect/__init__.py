"""The ``crmql://`` SQLAlchemy dialect (entry point ``sqlalchemy.dialects``: ``crmql``).

>>> import sqlalchemy as sa
>>> sa.create_engine("crmql://").dialect.name   # doctest: +SKIP
'crmql'
"""

from .dialect import CrmqlDialect

__all__ = ["CrmqlDialect"]
