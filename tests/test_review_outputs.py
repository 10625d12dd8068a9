"""Issue 9, second review (FIX-C): output names, IN lists, shell/export/sandbox fixes."""

from __future__ import annotations

import pytest

from crmql import ast
from crmql.bind import bind
from crmql.catalog import Column, ColumnType, Table
from crmql.errors import QueryError
from crmql.parser import parse

CONTACTS = Table("azavista", "contacts", (Column("first_name", ColumnType.STRING),
                                          Column("last_name", ColumnType.STRING)))


def _bind(sql: str):
    return bind(parse(sql), lambda c, n: CONTACTS, text=sql)


# ---- 1. a bare name matching two output columns is ambiguous (PostgreSQL: ORDER BY "x" is ambiguous)
@pytest.mark.parametrize("tail, clause, column", [
    ("ORDER BY x", "ORDER BY", 78),
    ("GROUP BY x", "GROUP BY", 78),
    ("GROUP BY 1, 2 HAVING x > 'a'", "HAVING", 90),
])
def test_repeated_alias_is_ambiguous(tail: str, clause: str, column: int) -> None:
    sql = f"SELECT c.first_name AS x, c.last_name AS x FROM azavista.contacts c {tail}"
    with pytest.raises(QueryError) as err:
        _bind(sql)
    text = str(err.value)
    assert f"{clause} x is ambiguous: output columns 1 and 2 are both named x" in text
    assert f"line 1, column {column}" in text


def test_alias_equal_to_a_column_name_is_ambiguous_in_order_by() -> None:
    with pytest.raises(QueryError, match="ORDER BY last_name is ambiguous: output columns 1 and 2"):
        _bind("SELECT c.first_name AS last_name, c.last_name FROM azavista.contacts c ORDER BY last_name")


def test_star_counts_in_positions() -> None:
    with pytest.raises(QueryError, match="output columns 3 and 4 are both named x"):
        _bind("SELECT *, c.first_name AS x, c.last_name AS x FROM azavista.contacts c ORDER BY x")


def test_one_alias_still_binds_as_before() -> None:
    # ORDER BY prefers the output name; GROUP BY with a repeated alias that is an input column takes the column
    q = _bind("SELECT c.first_name AS last_name FROM azavista.contacts c ORDER BY last_name")
    assert q.select.order_by[0].expr == ast.Column("last_name", None, span=q.select.order_by[0].expr.span)
    q = _bind("SELECT c.first_name AS last_name, c.last_name AS last_name FROM azavista.contacts c GROUP BY last_name")
    assert q.select.group_by[0].qualifier == "c"
    q = _bind("SELECT c.first_name AS x, c.last_name AS y FROM azavista.contacts c ORDER BY x, y")
    assert [o.expr.name for o in q.select.order_by] == ["x", "y"]
