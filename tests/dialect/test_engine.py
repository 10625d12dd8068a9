"""The crmql:// dialect as SQLAlchemy sees it: URL forms, the entry point, no-op transactions and
reflection (connections are schemas), against the sandbox served over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from crmql.sandbox import SandboxServer
from crmql.surfaces.sqlalchemy_dialect import CrmqlDialect
from crmql.surfaces.sqlalchemy_dialect.dialect import config_path

SANDBOX_CONNECTIONS = ["azavista", "atlas", "casavi", "casavi_community", "voyzu"]


# ---- URLs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url,expected", [
    ("crmql://", {}),
    ("crmql:///srv/crmql/config.toml", {"config": "/srv/crmql/config.toml"}),
    ("crmql:////srv/crmql/config.toml", {"config": "/srv/crmql/config.toml"}),
    ("crmql://?config=conf/crmql.toml", {"config": "conf/crmql.toml"}),
    ("crmql:///~/crmql.toml", {"config": str(Path("~/crmql.toml").expanduser())}),
])
def test_url_forms(url: str, expected: dict) -> None:
    assert CrmqlDialect().create_connect_args(make_url(url)) == ([], expected)


@pytest.mark.parametrize("url,message", [
    ("crmql://user:secret@host:5432", "take no host"),
    ("crmql://?timeout=3", "timeout not known"),
    ("crmql:///a.toml?config=b.toml", "not both"),
])
def test_url_mistakes_are_said(url: str, message: str) -> None:
    with pytest.raises(exc.ArgumentError, match=message) as info:
        CrmqlDialect().create_connect_args(make_url(url))
    assert "secret" not in str(info.value)


def test_config_path_reads_the_path_as_absolute() -> None:
    assert config_path("tmp/x/config.toml", {}) == "/tmp/x/config.toml"


def test_entry_point_and_dbapi() -> None:
    engine = sa.create_engine("crmql://")  # no connection is made until one is asked for
    assert type(engine.dialect).__name__ == "CrmqlDialect"
    assert engine.dialect.name == engine.dialect.driver == "crmql"
    assert engine.dialect.dbapi.paramstyle == "named" and engine.dialect.dbapi.apilevel == "2.0"
    assert engine.dialect.supports_statement_cache is True


def test_config_in_the_query_string(config_file: Path, sandbox_server: SandboxServer) -> None:
    eng = sa.create_engine(f"crmql://?config={config_file}")
    try:
        with eng.connect() as conn:
            n = conn.execute(sa.text("SELECT COUNT(*) AS n FROM azavista.organizations")).scalar()
        assert n > 0
    finally:
        eng.dispose()


# ---- connections, transactions ------------------------------------------------------------------

def test_transactions_are_no_ops(engine: sa.Engine) -> None:
    with engine.begin() as conn:  # begin ... commit
        assert conn.execute(sa.text("SELECT name FROM azavista.events LIMIT 1")).fetchall()
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT name FROM azavista.events LIMIT 1"))
        conn.rollback()
        assert conn.get_isolation_level() == "AUTOCOMMIT"
        assert conn.dialect.default_schema_name == "azavista"
        assert conn.dialect.server_version_info


def test_pool_pre_ping_sends_nothing(config_file: Path, sandbox_server: SandboxServer) -> None:
    sandbox_server.reset_log()
    eng = sa.create_engine(f"crmql://{config_file}", pool_pre_ping=True)
    try:
        for _ in range(2):
            with eng.connect() as conn:
                assert conn.dialect.do_ping(conn.connection.dbapi_connection)
    finally:
        eng.dispose()
    assert sandbox_server.request_log == []


# ---- reflection ---------------------------------------------------------------------------------

def test_schemas_are_connections(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    assert insp.get_schema_names() == SANDBOX_CONNECTIONS
    assert insp.default_schema_name == "azavista"
    assert insp.get_table_names("azavista") == ["events", "contacts", "organizations"]
    assert insp.get_table_names() == insp.get_table_names("azavista")
    assert insp.get_view_names("azavista") == []


def test_table_names_load_no_table(engine: sa.Engine, sandbox_server: SandboxServer) -> None:
    """Atlas's tables come from its templates: listing their names reads none."""
    with engine.connect() as conn:
        sandbox_server.reset_log()
        names = sa.inspect(conn).get_table_names("atlas")
    assert names == ["companies", "contacts", "sales", "links"]
    assert sandbox_server.request_log == []


def test_columns_types_and_pushdown_comment(engine: sa.Engine) -> None:
    cols = {c["name"]: c for c in sa.inspect(engine).get_columns("events", "azavista")}
    assert isinstance(cols["name"]["type"], sa.String)
    assert isinstance(cols["start"]["type"], sa.DateTime) and cols["start"]["type"].timezone
    assert cols["event_type"]["comment"].startswith("pushed: =, IN, LIKE. options: marketing, sales")
    assert all(c["nullable"] for c in cols.values())
    with engine.connect() as conn:
        described = conn.exec_driver_sql("DESCRIBE azavista.events").fetchall()
    assert [c for c in cols] == [row[0] for row in described]


def test_list_columns_and_atlas_names(engine: sa.Engine) -> None:
    voyzu = {c["name"]: c for c in sa.inspect(engine).get_columns("contacts", "voyzu")}
    assert str(voyzu["contact_types"]["type"]) == "LIST"
    atlas = {c["name"] for c in sa.inspect(engine).get_columns("sales", "atlas")}
    assert {"sale-name", "sale-status", "sale-balance"} <= atlas


def test_keys_and_no_constraints(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    assert insp.get_pk_constraint("events", "azavista")["constrained_columns"] == ["id"]
    assert insp.get_foreign_keys("events", "azavista") == []
    assert insp.get_indexes("events", "azavista") == []
    assert insp.get_unique_constraints("events", "azavista") == []
    assert insp.get_table_comment("events", "azavista")["text"]


def test_has_table(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    assert insp.has_table("events", "azavista") and insp.has_table("EVENTS", "azavista")
    assert not insp.has_table("event", "azavista")
    assert not insp.has_table("events", "nowhere")


def test_unknown_table_says_crmqls_hint(engine: sa.Engine) -> None:
    with pytest.raises(exc.NoSuchTableError, match="did you mean azavista.events"):
        sa.Table("event", sa.MetaData(), autoload_with=engine, schema="azavista")
    with pytest.raises(exc.NoSuchTableError, match="(?s)unknown connection 'azavsta'.*did you mean azavista"):
        sa.inspect(engine).get_columns("events", "azavsta")


def test_reflected_table_without_schema_reads_the_default_connection(engine: sa.Engine) -> None:
    events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.name).where(events.c.event_type == "sales").limit(2)).fetchall()
    assert len(rows) == 2


def test_crmql_errors_come_through_sqlalchemy_with_their_hint(engine: sa.Engine) -> None:
    """A crmql QueryError is a PEP 249 ProgrammingError, so SQLAlchemy raises its ProgrammingError
    with crmql's message, position and hint (the original error kept as ``.orig``)."""
    with engine.connect() as conn, pytest.raises(exc.ProgrammingError) as info:
        conn.execute(sa.text("SELECT nme FROM azavista.events"))
    assert "unknown column 'nme'" in str(info.value) and "did you mean name?" in str(info.value)
    assert type(info.value.orig).__name__ == "QueryError"
