"""The crmql dialect's compiler: SQLAlchemy Core constructs -> SQL that crmql's grammar reads.

Each construct's compiled text is checked against its expected text (golden, below) and parsed by
crmql's own parser; bound values are checked as SQLAlchemy hands them to the DB-API (crmql's
``:name``). No vendor is involved: the statements are only compiled and parsed here (see
test_pushdown.py for the same statements run against the sandbox).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from crmql.language.parser import parse
from crmql.surfaces.sqlalchemy_dialect import CrmqlDialect

DIALECT = CrmqlDialect()
MD = sa.MetaData()
EVENTS = sa.Table("events", MD, sa.Column("id", sa.String, primary_key=True), sa.Column("name", sa.String),
                  sa.Column("event_type", sa.String), sa.Column("start", sa.DateTime(timezone=True)),
                  sa.Column("capacity", sa.Integer), sa.Column("online", sa.Boolean), schema="azavista")
SALES = sa.Table("sales", MD, sa.Column("id", sa.String), sa.Column("sale-status", sa.String),
                 sa.Column("sale-balance", sa.Float), sa.Column("date", sa.Date), sa.Column("Straße", sa.String),
                 sa.Column("2fa", sa.Boolean), schema="atlas")
ORGS = sa.Table("organizations", MD, sa.Column("id", sa.String), sa.Column("name", sa.String), schema="azavista")
E = EVENTS.c
ALIAS = sa.alias(EVENTS, "e")


def one_line(compiled: sa.engine.interfaces.Compiled) -> str:
    return " ".join(str(compiled).split())


def compiled(stmt: sa.sql.Executable, literal: bool = False) -> sa.engine.interfaces.Compiled:
    kwargs = {"literal_binds": True} if literal else {"render_postcompile": True}
    return stmt.compile(dialect=DIALECT, compile_kwargs=kwargs)


# (construct, compiled SQL with bound parameters, its parameters); every one must parse in crmql
GOLDEN = [
    ("where + limit", sa.select(E.name).where(E.event_type == "sales").limit(5),
     "SELECT events.name FROM azavista.events WHERE events.event_type = :event_type_1 LIMIT 5",
     {"event_type_1": "sales"}),
    ("select(table)", sa.select(EVENTS),
     "SELECT events.id, events.name, events.event_type, events.start, events.capacity, events.online "
     "FROM azavista.events", {}),
    ("offset without limit", sa.select(E.name).offset(10),
     "SELECT events.name FROM azavista.events OFFSET 10", {}),
    ("limit + offset", sa.select(E.name).limit(20).offset(40),
     "SELECT events.name FROM azavista.events LIMIT 20 OFFSET 40", {}),
    ("order by", sa.select(E.name, E.start).order_by(E.start.desc(), E.name),
     "SELECT events.name, events.start FROM azavista.events ORDER BY events.start DESC, events.name", {}),
    ("group by + count", sa.select(E.event_type, sa.func.count().label("n")).group_by(E.event_type)
     .order_by(sa.desc("n")),
     "SELECT events.event_type, count(*) AS n FROM azavista.events GROUP BY events.event_type ORDER BY n DESC", {}),
    ("count(*)", sa.select(sa.func.count()).select_from(EVENTS).where(E.event_type == "sales"),
     "SELECT count(*) AS count_1 FROM azavista.events WHERE events.event_type = :event_type_1",
     {"event_type_1": "sales"}),
    ("having", sa.select(E.event_type, sa.func.count(E.id)).group_by(E.event_type)
     .having(sa.func.count(E.id) > 3),
     "SELECT events.event_type, count(events.id) AS count_1 FROM azavista.events GROUP BY events.event_type "
     "HAVING count(events.id) > :count_2", {"count_2": 3}),
    ("in_ (expanding)", sa.select(SALES.c.id).where(SALES.c["sale-status"].in_(["won", "lost"])),
     'SELECT sales.id FROM atlas.sales WHERE sales."sale-status" IN (:sale_status_1_1, :sale_status_1_2)',
     {"sale_status_1_1": "won", "sale_status_1_2": "lost"}),
    ("quoted names, keyword, non-ASCII bind name",
     sa.select(SALES.c["sale-balance"], SALES.c.date).where(SALES.c["Straße"] == "x", SALES.c["sale-balance"] >= 500),
     'SELECT sales."sale-balance", sales."date" FROM atlas.sales WHERE sales."Straße" = :Stra_e_1 '
     'AND sales."sale-balance" >= :sale_balance_1', {"Stra_e_1": "x", "sale_balance_1": 500}),
    ("bind name starting with a digit", sa.select(SALES.c.id).where(SALES.c["2fa"] == sa.bindparam("2fa", True)),
     'SELECT sales.id FROM atlas.sales WHERE sales."2fa" = :p2fa', {"p2fa": True}),
    ("between, is null, not in, distinct",
     sa.select(E.name).distinct().where(E.capacity.between(1, 10), E.start.is_(None), E.name.not_in(["a"])),
     "SELECT DISTINCT events.name FROM azavista.events WHERE events.capacity BETWEEN :capacity_1 AND :capacity_2 "
     "AND events.start IS NULL AND (events.name NOT IN (:name_1_1))", {"capacity_1": 1, "capacity_2": 10,
                                                                      "name_1_1": "a"}),
    ("ilike, like, or, boolean", sa.select(E.name).where(sa.or_(E.name.ilike("%kick%"), E.name.like("A%")),
                                                         E.online == sa.true()),
     "SELECT events.name FROM azavista.events WHERE (events.name ILIKE :name_1 OR events.name LIKE :name_2) "
     "AND events.online = TRUE", {"name_1": "%kick%", "name_2": "A%"}),
    ("alias + join", sa.select(ALIAS.c.name, ORGS.c.name.label("org")).join_from(ALIAS, ORGS, ALIAS.c.id == ORGS.c.id),
     "SELECT e.name, organizations.name AS org FROM azavista.events AS e "
     "JOIN azavista.organizations ON e.id = organizations.id", {}),
    ("functions", sa.select(sa.func.lower(E.name), sa.func.max(E.capacity)).group_by(sa.func.lower(E.name)),
     "SELECT lower(events.name) AS lower_1, max(events.capacity) AS max_1 FROM azavista.events "
     "GROUP BY lower(events.name)", {}),
]


@pytest.mark.parametrize("name,stmt,sql,params", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_compiled_sql_is_crmql(name: str, stmt: sa.Select, sql: str, params: dict) -> None:
    c = compiled(stmt)
    assert one_line(c) == sql
    assert c.construct_params() == params
    parse(str(c))  # crmql's own grammar reads it


def test_literal_binds_write_crmql_literals() -> None:
    stmt = sa.select(E.name).where(E.event_type == "o'neil", E.start >= dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc),
                                   E.online.is_(False), E.capacity > 5).limit(3)
    assert one_line(compiled(stmt, literal=True)) == (
        "SELECT events.name FROM azavista.events WHERE events.event_type = 'o''neil' "
        "AND events.start >= TIMESTAMP '2025-03-01T00:00:00+00:00' AND (events.online = FALSE AND events.online IS NOT NULL) "
        "AND events.capacity > 5 LIMIT 3")
    dated = sa.select(SALES.c.id).where(SALES.c.date > dt.date(2025, 1, 31))
    assert one_line(compiled(dated, literal=True)) == \
        "SELECT sales.id FROM atlas.sales WHERE sales.\"date\" > DATE '2025-01-31'"
    parse(str(compiled(dated, literal=True)))
    parse(str(compiled(stmt, literal=True)))


@pytest.mark.parametrize("condition,sql", [
    (E.online.is_(True), "(events.online = TRUE AND events.online IS NOT NULL)"),
    (E.online.is_not(False), "(events.online <> FALSE OR events.online IS NULL)"),
    (E.name.is_distinct_from("x"), "coalesce(events.name <> 'x', (events.name IS NULL) <> ('x' IS NULL))"),
    (E.name.is_not_distinct_from("x"), "coalesce(events.name = 'x', (events.name IS NULL) = ('x' IS NULL))"),
], ids=["is true", "is not false", "is distinct from", "is not distinct from"])
def test_is_true_and_distinct_from_are_written_with_crmqls_operators(condition: Any, sql: str) -> None:
    """crmql's IS takes only NULL: the same truth table (NULL included) with = / <> and IS [NOT] NULL."""
    text = str(compiled(sa.select(E.name).where(condition), literal=True))
    assert " ".join(text.split()).endswith("WHERE " + sql)
    parse(text)


def test_limit_is_a_number_rendered_at_execution() -> None:
    """LIMIT/OFFSET are literal_execute binds: cached once, written as numbers when run."""
    c = sa.select(E.name).limit(5).offset(2).compile(dialect=DIALECT)
    assert "LIMIT __[POSTCOMPILE_param_1]" in str(c) and "OFFSET __[POSTCOMPILE_param_2]" in str(c)


def test_table_without_schema_takes_the_default_connection() -> None:
    dialect = CrmqlDialect()
    dialect.default_schema_name = "azavista"
    bare = sa.table("events", sa.column("name"))
    assert one_line(sa.select(bare.c.name).compile(dialect=dialect)) == "SELECT events.name FROM azavista.events"


@pytest.mark.parametrize("stmt,message", [
    (sa.select(sa.select(E.name).subquery().c.name), "no subqueries"),
    (sa.select(sa.cast(E.capacity, sa.String)), "no CAST"),
    (sa.select(E.name).order_by(E.name.nulls_last()), "NULLS FIRST"),
    (sa.insert(EVENTS).values(name="x"), "read-only"),
    (sa.delete(EVENTS), "read-only"),
    (sa.select(E.name).where(E.name.like("a/%", escape="/")), "no ESCAPE"),
    (sa.select(E.name).where(E.name.contains("50%", autoescape=True)), "no ESCAPE"),
], ids=["subquery", "cast", "nulls last", "insert", "delete", "like escape", "contains autoescape"])
def test_what_crmql_cannot_say_fails_to_compile(stmt: sa.sql.Executable, message: str) -> None:
    with pytest.raises(exc.CompileError, match=message):
        stmt.compile(dialect=DIALECT)


def test_identifier_quoting_follows_the_grammar() -> None:
    quote = DIALECT.identifier_preparer.quote
    assert [quote(n) for n in ("event_type", "firstName", "contact-email", "date", "select", 'a"b', "2fa")] == \
        ["event_type", "firstName", '"contact-email"', '"date"', '"select"', '"a""b"', '"2fa"']
