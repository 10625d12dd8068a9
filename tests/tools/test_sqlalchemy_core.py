"""SQLAlchemy Core and reflection over ``crmql://`` (issue 14), and the calls Apache Superset makes (Superset
itself is too heavy for CI): ``inspect(engine)`` lists every sandbox table (the same as SHOW TABLES),
``MetaData.reflect(schema="azavista")`` gives each column its type and its pushdown in the comment, a Core
``select`` is pushed down like the hand-written SQL (the same native filters), and Superset's test
connection, table metadata, ``SELECT ... LIMIT`` (SQL Lab) and ``COUNT(*)`` (a chart) work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

import crmql  # noqa: E402
from tools_support import Traffic, engine_url  # noqa: E402
from tools_support import tools_config, traffic  # noqa: E402,F401 - the fixtures

from sqlalchemy import MetaData, Table, desc, func, inspect, literal_column, select, text  # noqa: E402


@pytest.fixture(scope="module")
def engine(tools_config: Path) -> Iterator[Any]:
    made = sqlalchemy.create_engine(engine_url(tools_config))
    yield made
    made.dispose()


@pytest.fixture(scope="module")
def session(tools_config: Path) -> Iterator[crmql.Session]:
    with crmql.connect(tools_config) as made:
        yield made


def test_inspect_lists_every_sandbox_table(engine: Any, session: crmql.Session, traffic: Traffic) -> None:
    """Connections are schemas and tables are tables: every table of every vendor, as SHOW TABLES, listed
    without a vendor request."""
    shown = session.tables()
    with traffic.recording() as listing:
        inspector = inspect(engine)
        schemas = inspector.get_schema_names()
        tables = {schema: inspector.get_table_names(schema=schema) for schema in schemas}
    assert listing.requests == 0, listing
    assert sorted(schemas) == sorted(set(shown["connection"])) == sorted(session.config.connections)
    assert {"azavista", "atlas", "casavi", "casavi_community", "voyzu"} <= set(schemas)
    listed = {(schema, table) for schema, names in tables.items() for table in names}
    expected = set(zip(shown["connection"], shown["table"]))
    assert listed == expected, listed ^ expected
    assert inspector.default_schema_name in schemas
    assert all(inspector.get_view_names(schema=schema) == [] for schema in schemas)
    assert inspector.has_table("events", schema="azavista") and not inspector.has_table("event", schema="azavista")


def test_metadata_reflect_a_schema(engine: Any, session: crmql.Session) -> None:
    """``MetaData.reflect(schema="azavista")``: each table with DESCRIBE's columns, typed, the key as the
    primary key, the pushdown in each column's comment."""
    metadata = MetaData()
    metadata.reflect(engine, schema="azavista")
    assert set(metadata.tables) == {"azavista.events", "azavista.contacts", "azavista.organizations"}
    events = metadata.tables["azavista.events"]
    described = session.describe("azavista", "events")
    assert [c.name for c in events.columns] == list(described["column"])
    types = dict(zip(described["column"], described["type"]))
    python = {"string": str, "integer": int, "float": float, "boolean": bool}
    for column in events.columns:
        expected = python.get(types[column.name])
        if expected is not None:
            assert column.type.python_type is expected, (column.name, column.type, types[column.name])
        assert column.nullable
    assert [c.name for c in events.primary_key.columns] == ["id"]
    pushed = dict(zip(described["column"], described["pushed_filters"]))
    for name in ("event_type", "start"):
        comment = events.c[name].comment or ""
        assert pushed[name] and pushed[name] in comment, (name, comment)  # "=, IN, LIKE" as DESCRIBE says


def test_core_select_pushes_down_like_sql(engine: Any, traffic: Traffic, tools_config: Path) -> None:
    """``select(t).where(t.c.event_type == "sales").limit(5)`` sends the native filter the SQL sends."""
    events = Table("events", MetaData(), schema="azavista", autoload_with=engine)
    query = select(events.c.id, events.c.name).where(events.c.event_type == "sales").order_by(events.c.id).limit(5)
    with engine.connect() as connection:
        connection.execute(text("SELECT id FROM azavista.events WHERE 1 = 0")).fetchall()  # its token
        with traffic.recording() as core:
            rows = connection.execute(query).fetchall()
    with crmql.connect(tools_config) as session:
        session.query("SELECT id FROM azavista.events WHERE 1 = 0")
        with Traffic(traffic.server).recording() as sql:
            expected = session.query("SELECT id, name FROM azavista.events WHERE event_type = 'sales' "
                                     "ORDER BY id LIMIT 5")
    assert [tuple(r) for r in rows] == list(expected.itertuples(index=False, name=None)) and len(rows) == 5
    assert core.same_as(sql) and all('"sales"' in f for f in core.searches), f"{core} != {sql}"


def test_superset_calls(engine: Any, traffic: Traffic, session: crmql.Session) -> None:
    """What Superset does with a database: test the connection (``do_ping`` on a raw connection), read a
    table's metadata, run SQL Lab's ``SELECT ... LIMIT`` on a raw cursor, and a chart's ``COUNT(*)`` built
    with Core and compiled with literal values (Superset sends the text)."""
    raw = engine.raw_connection()
    try:
        with traffic.recording() as ping:
            assert engine.dialect.do_ping(raw) is True
        assert ping.requests == 0, ping
        inspector = inspect(engine)
        assert inspector.get_columns("contacts", schema="azavista")
        assert inspector.get_pk_constraint("contacts", schema="azavista")["constrained_columns"] == ["id"]
        assert inspector.get_foreign_keys("contacts", schema="azavista") == []
        assert inspector.get_indexes("contacts", schema="azavista") == []

        cursor = raw.cursor()
        cursor.execute("SELECT name, event_type FROM azavista.events WHERE event_type = 'sales' LIMIT 1001")
        assert [d[0] for d in cursor.description] == ["name", "event_type"]
        rows = cursor.fetchmany(1001)
        assert 50 < len(rows) <= 1001 and {r[1] for r in rows} == {"sales"}
        cursor.close()

        chart = (select(literal_column("event_type").label("event_type"), func.count().label("count"))
                 .select_from(sqlalchemy.table("events", schema="azavista"))
                 .group_by(literal_column("event_type")).order_by(desc("count")).limit(10000))
        sql = str(chart.compile(engine, compile_kwargs={"literal_binds": True}))
        cursor = raw.cursor()
        with traffic.recording() as via_superset:
            cursor.execute(sql)
            counts = dict(cursor.fetchall())
        cursor.close()
    finally:
        raw.close()
    by_sql = session.query("SELECT event_type, COUNT(*) AS count FROM azavista.events GROUP BY event_type")
    assert counts == dict(zip(by_sql["event_type"], by_sql["count"])), sql
    assert via_superset.requests > 0

    with engine.connect() as connection:  # a dataset's row count: Core's count() over the reflected table
        events = Table("events", MetaData(), schema="azavista", autoload_with=engine)
        total = connection.execute(select(func.count()).select_from(events)
                                   .where(events.c.event_type == "sales")).scalar_one()
    assert total == int(session.query("SELECT COUNT(*) AS n FROM azavista.events WHERE event_type = 'sales'")["n"][0])
