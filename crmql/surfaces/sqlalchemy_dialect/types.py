"""crmql's column types as SQLAlchemy types, and the literals crmql's grammar reads.

Reflection (:mod:`.reflection`) maps each DESCRIBE type to one SQLAlchemy type:

=========== ==========================================
crmql       SQLAlchemy
=========== ==========================================
string      ``String``
integer     ``Integer``
float       ``Float``
boolean     ``Boolean``
date        ``Date``
timestamp   ``DateTime(timezone=True)`` (every crmql timestamp is timezone-aware, UTC)
list        :class:`List` (a list of strings; values come back as Python lists)
=========== ==========================================

A list column is its own type rather than ``ARRAY(String)``: SQLAlchemy's generic ``ARRAY`` has no
spelling in the default type compiler, so ``str(column.type)`` (what JupySQL and Superset print)
would raise; :class:`List` prints ``LIST``, as DESCRIBE says it.

Literals rendered inline (``literal_binds``, ``LIMIT``/``OFFSET``) are written the way the grammar
reads them: dates as ``DATE 'YYYY-MM-DD'``, timestamps as ``TIMESTAMP 'ISO-8601'`` (a naive one is
UTC to crmql), booleans as ``TRUE``/``FALSE``.

>>> import datetime as dt
>>> CrmqlDate().literal_processor(None)(dt.date(2025, 3, 1))
"DATE '2025-03-01'"
>>> CrmqlDateTime().literal_processor(None)(dt.datetime(2025, 3, 1, 12, 30))
"TIMESTAMP '2025-03-01T12:30:00'"
>>> sqlalchemy_type("timestamp")
DateTime(timezone=True)
>>> str(sqlalchemy_type("list"))
'LIST'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.sql import compiler

__all__ = ["COLSPECS", "CrmqlDate", "CrmqlDateTime", "CrmqlTypeCompiler", "List", "TYPES", "sqlalchemy_type"]


class List(sqltypes.UserDefinedType[list]):
    """A crmql LIST column: a list of strings (multi-select values, e-mail addresses, labels).

    >>> List().python_type
    <class 'list'>
    """

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "LIST"

    @property
    def python_type(self) -> type:
        return list


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class CrmqlDate(sqltypes.Date):
    """``Date`` whose inline literal is ``DATE 'YYYY-MM-DD'``."""

    def literal_processor(self, dialect: Any) -> Callable[[Any], str]:
        def process(value: Any) -> str:
            if isinstance(value, dt.datetime):
                value = value.date()
            return f"DATE {_quoted(value.isoformat() if isinstance(value, dt.date) else str(value))}"

        return process


class CrmqlDateTime(sqltypes.DateTime):
    """``DateTime`` whose inline literal is ``TIMESTAMP 'ISO-8601'`` (with the offset when it has one)."""

    def literal_processor(self, dialect: Any) -> Callable[[Any], str]:
        def process(value: Any) -> str:
            if isinstance(value, dt.datetime):
                text = value.isoformat()
            elif isinstance(value, dt.date):
                text = dt.datetime.combine(value, dt.time()).isoformat()
            else:
                text = str(value)
            return f"TIMESTAMP {_quoted(text)}"

        return process


class CrmqlBoolean(sqltypes.Boolean):
    """``Boolean`` whose inline literal is ``TRUE``/``FALSE`` (``NULL`` for None)."""

    def literal_processor(self, dialect: Any) -> Callable[[Any], str]:
        def process(value: Any) -> str:
            return "NULL" if value is None else ("TRUE" if value else "FALSE")

        return process


#: the dialect's ``colspecs``: generic types replaced by crmql's spelling of their literals
COLSPECS: dict[type, type] = {
    sqltypes.Date: CrmqlDate,
    sqltypes.DateTime: CrmqlDateTime,
    sqltypes.Boolean: CrmqlBoolean,
}

#: DESCRIBE's type name -> a factory of the SQLAlchemy type
TYPES: dict[str, Callable[[], sqltypes.TypeEngine[Any]]] = {
    "string": sqltypes.String,
    "integer": sqltypes.Integer,
    "float": sqltypes.Float,
    "boolean": sqltypes.Boolean,
    "date": sqltypes.Date,
    "timestamp": lambda: sqltypes.DateTime(timezone=True),
    "list": List,
}


def sqlalchemy_type(name: str) -> sqltypes.TypeEngine[Any]:
    """The SQLAlchemy type of a crmql column type (DESCRIBE's ``type``); an unknown one is ``NullType``.

    >>> sqlalchemy_type("integer"), sqlalchemy_type("something new")
    (Integer(), NullType())
    """
    factory = TYPES.get(str(name).strip().lower())
    return factory() if factory is not None else sqltypes.NullType()


class CrmqlTypeCompiler(compiler.GenericTypeCompiler):
    """Type names as DESCRIBE prints them (crmql has no DDL and no CAST: these only label columns).

    >>> from sqlalchemy import Integer, String
    >>> CrmqlTypeCompiler(None).process(String(20)), CrmqlTypeCompiler(None).process(Integer())
    ('STRING', 'INTEGER')
    """

    def visit_string(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    visit_VARCHAR = visit_CHAR = visit_TEXT = visit_text = visit_unicode = visit_unicode_text = visit_string
    visit_NVARCHAR = visit_NCHAR = visit_string

    def visit_integer(self, type_: Any, **kw: Any) -> str:
        return "INTEGER"

    visit_INTEGER = visit_small_integer = visit_big_integer = visit_BIGINT = visit_SMALLINT = visit_integer

    def visit_float(self, type_: Any, **kw: Any) -> str:
        return "FLOAT"

    visit_FLOAT = visit_REAL = visit_DOUBLE = visit_double = visit_numeric = visit_NUMERIC = visit_float
    visit_DECIMAL = visit_DOUBLE_PRECISION = visit_float

    def visit_boolean(self, type_: Any, **kw: Any) -> str:
        return "BOOLEAN"

    visit_BOOLEAN = visit_boolean

    def visit_date(self, type_: Any, **kw: Any) -> str:
        return "DATE"

    visit_DATE = visit_date

    def visit_datetime(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP"

    visit_DATETIME = visit_TIMESTAMP = visit_datetime
