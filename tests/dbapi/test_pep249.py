"""crmql.dbapi against PEP 249, point by point, over real HTTP against the served sandbox.

One test per module attribute, connection method and cursor method; the streaming tests count the
sandbox's requests (a fetchmany on a 10,000-row scan reads a bounded number of pages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

import crmql.dbapi as dbapi
from crmql import errors
from crmql.api.config import sandbox_config
from crmql.api.session import Session
from crmql.sandbox import SandboxServer

CONTACTS = 10_000  # rows of azavista.contacts in the sandbox (seed 42): 200 pages of 50
EVENTS = 2_400  # rows of azavista.events: more than one streamed batch (STREAM_BATCH_ROWS = 2,000)


@pytest.fixture(scope="module")
def conn(sandbox_server: SandboxServer) -> Iterator[dbapi.Connection]:
    connection = dbapi.connect(sandbox_config(sandbox_server.url))
    yield connection
    connection.close()


@pytest.fixture
def cur(conn: dbapi.Connection, sandbox: SandboxServer) -> Iterator[dbapi.Cursor]:
    cursor = conn.cursor()
    yield cursor
    cursor.close()


def _requests(server: SandboxServer) -> int:
    return len(server.request_log)


# ---- module globals
def test_apilevel_threadsafety_paramstyle() -> None:
    assert (dbapi.apilevel, dbapi.threadsafety, dbapi.paramstyle) == ("2.0", 1, "named")


def test_the_exception_tree_is_pep_249s_and_crmqls() -> None:
    assert issubclass(dbapi.Warning, Exception) and issubclass(dbapi.Error, Exception)
    for name in ("InterfaceError", "DatabaseError"):
        assert issubclass(getattr(dbapi, name), dbapi.Error)
    for name in ("DataError", "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
                 "NotSupportedError"):
        assert issubclass(getattr(dbapi, name), dbapi.DatabaseError)
    assert issubclass(errors.CrmqlError, dbapi.DatabaseError)
    assert issubclass(errors.QuerySyntaxError, dbapi.ProgrammingError)
    assert issubclass(errors.QueryError, dbapi.ProgrammingError)
    assert issubclass(errors.ConfigError, dbapi.ProgrammingError)
    for cls in (errors.ConnectorError, errors.NetworkError, errors.CancelledError, errors.ExportError):
        assert issubclass(cls, dbapi.OperationalError)


def test_type_objects_compare_equal_to_their_type_codes() -> None:
    assert dbapi.STRING == "string" and dbapi.STRING == "list" and dbapi.STRING != "integer"
    assert dbapi.NUMBER == "integer" and dbapi.NUMBER == "float"
    assert dbapi.DATETIME == "date" and dbapi.DATETIME == "timestamp"
    assert dbapi.BOOLEAN == "boolean" and dbapi.NUMBER != "boolean"
    assert dbapi.BINARY != "string" and dbapi.ROWID != "string"


def test_constructors() -> None:
    assert dbapi.Date(2024, 1, 2) == dt.date(2024, 1, 2)
    assert dbapi.Time(3, 4, 5) == dt.time(3, 4, 5)
    assert dbapi.Timestamp(2024, 1, 2, 3, 4) == dt.datetime(2024, 1, 2, 3, 4)
    assert dbapi.Binary(b"x") == b"x"
    assert isinstance(dbapi.DateFromTicks(0), dt.date)
    assert isinstance(dbapi.TimeFromTicks(0), dt.time)
    assert isinstance(dbapi.TimestampFromTicks(0), dt.datetime)


# ---- connect and the connection
def test_connect_with_a_bad_config_path_is_a_programming_error(tmp_path: Any) -> None:
    with pytest.raises(dbapi.ProgrammingError, match="does not exist"):
        dbapi.connect(str(tmp_path / "missing.toml"))
    with pytest.raises(dbapi.InterfaceError, match="unknown connect"):
        dbapi.connect(user="x")


def test_connection_commit_and_rollback_are_no_ops(conn: dbapi.Connection) -> None:
    assert conn.commit() is None and conn.rollback() is None


def test_connection_exposes_the_exception_classes(conn: dbapi.Connection) -> None:
    assert conn.ProgrammingError is dbapi.ProgrammingError and conn.Error is dbapi.Error


def test_connection_close_closes_its_cursors(sandbox_server: SandboxServer) -> None:
    session = Session(sandbox_config(sandbox_server.url))
    connection = dbapi.connect(session=session)
    cursor = connection.cursor()
    connection.close()
    assert connection.closed
    with pytest.raises(dbapi.InterfaceError):
        connection.cursor()
    with pytest.raises(dbapi.InterfaceError):
        cursor.execute("SHOW TABLES")
    session.close()


# ---- the cursor
def test_cursor_connection_attribute_and_arraysize(conn: dbapi.Connection, cur: dbapi.Cursor) -> None:
    assert cur.connection is conn and cur.arraysize == 1


def test_execute_select_with_named_parameters(cur: dbapi.Cursor, sandbox: SandboxServer) -> None:
    assert cur.execute("SELECT name, start FROM azavista.events WHERE event_type = :t LIMIT 3", {"t": "sales"}) is cur
    rows = cur.fetchall()
    assert len(rows) == 3 and all(isinstance(r, tuple) and isinstance(r[1], dt.datetime) for r in rows)
    assert _requests(sandbox) >= 1


def test_execute_refuses_positional_parameters(cur: dbapi.Cursor) -> None:
    with pytest.raises(dbapi.ProgrammingError, match="named"):
        cur.execute("SELECT name FROM azavista.events WHERE event_type = :t", ["sales"])


def test_description_has_seven_items_and_crmql_type_codes(cur: dbapi.Cursor) -> None:
    assert cur.description is None
    cur.execute("SELECT name, start, event_type FROM azavista.events LIMIT 1")
    assert cur.description == [("name", "string", None, None, None, None, True),
                               ("start", "timestamp", None, None, None, None, True),
                               ("event_type", "string", None, None, None, None, True)]
    assert cur.description[1][1] == dbapi.DATETIME


def test_rowcount_is_minus_one_until_known_then_the_rows(cur: dbapi.Cursor) -> None:
    assert cur.rowcount == -1
    cur.execute("SELECT name FROM azavista.events LIMIT 4")  # streamed: unknown until read to the end
    assert cur.rowcount == -1
    assert len(cur.fetchall()) == 4 and cur.rowcount == 4
    cur.execute("SELECT event_type, COUNT(*) AS n FROM azavista.events GROUP BY event_type")  # run to a frame
    assert cur.rowcount == len(cur.fetchall()) > 1


def test_fetchone_then_none_at_the_end(cur: dbapi.Cursor) -> None:
    cur.execute("SELECT name FROM azavista.events LIMIT 2")
    assert cur.fetchone() is not None and cur.fetchone() is not None
    assert cur.fetchone() is None


def test_fetchmany_defaults_to_arraysize(cur: dbapi.Cursor) -> None:
    cur.execute("SELECT name FROM azavista.events LIMIT 5")
    assert len(cur.fetchmany()) == 1
    cur.arraysize = 3
    assert len(cur.fetchmany()) == 3
    assert len(cur.fetchmany(10)) == 1 and cur.fetchmany(10) == []


def test_iterating_a_cursor_yields_every_row(cur: dbapi.Cursor) -> None:
    cur.execute("SELECT id FROM azavista.events ORDER BY id LIMIT 7")
    ids = [row[0] for row in cur]
    assert len(ids) == 7 and ids == sorted(ids)


def test_fetch_before_execute_is_an_interface_error(cur: dbapi.Cursor) -> None:
    with pytest.raises(dbapi.InterfaceError, match="execute"):
        cur.fetchone()


def test_explain_is_one_plan_column_one_row_per_line(cur: dbapi.Cursor) -> None:
    cur.execute("EXPLAIN SELECT name FROM azavista.events WHERE event_type = 'sales'")
    assert [d[0] for d in cur.description] == ["plan"]
    lines = [row[0] for row in cur.fetchall()]
    assert len(lines) > 1 and lines[0].startswith("Scan azavista.events")


def test_describe_and_show_tables(cur: dbapi.Cursor) -> None:
    cur.execute("DESCRIBE azavista.events")
    assert [d[0] for d in cur.description][:3] == ["column", "field_id", "type"]
    assert ("event_type" in {row[0] for row in cur.fetchall()})
    cur.execute("SHOW TABLES FROM azavista")
    assert {row[1] for row in cur.fetchall()} == {"events", "contacts", "organizations"}


def test_errors_are_programming_errors_with_crmqls_message(cur: dbapi.Cursor) -> None:
    with pytest.raises(dbapi.ProgrammingError, match="line 1, column 1"):
        cur.execute("SELEC name FROM azavista.events")
    with pytest.raises(dbapi.ProgrammingError, match="did you mean"):
        cur.execute("SELECT nme FROM azavista.events")


def test_executemany_runs_one_set_and_refuses_several(cur: dbapi.Cursor) -> None:
    cur.executemany("SELECT name FROM azavista.events WHERE event_type = :t LIMIT 2", [{"t": "sales"}])
    assert len(cur.fetchall()) == 2
    with pytest.raises(dbapi.NotSupportedError):
        cur.executemany("SELECT name FROM azavista.events WHERE event_type = :t", [{"t": "a"}, {"t": "b"}])


def test_setinputsizes_and_setoutputsize_do_nothing(cur: dbapi.Cursor) -> None:
    assert cur.setinputsizes([None]) is None and cur.setoutputsize(10) is None and cur.setoutputsize(10, 0) is None


def test_close_makes_the_cursor_unusable(cur: dbapi.Cursor) -> None:
    cur.close()
    with pytest.raises(dbapi.InterfaceError, match="closed"):
        cur.execute("SHOW TABLES")


# ---- streaming: pages are read as rows are fetched
def test_fetchmany_on_a_big_scan_reads_a_bounded_number_of_pages(cur: dbapi.Cursor, sandbox: SandboxServer,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.surfaces.dbapi import stream

    monkeypatch.setattr(stream, "IDLE_RELEASE_S", 600.0)  # a loaded machine must not release the pause
    cur.execute("SELECT * FROM azavista.contacts")
    assert len(cur.fetchmany(100)) == 100
    # at most two batches of 2,000 rows (the one taken, the next one gathered while waiting: 40 pages
    # of 50 each) and the pages in flight (concurrency 8): about 88 of the table's 200 pages (a token
    # request may come on top); reading it all would be 200
    assert _requests(sandbox) <= 100, _requests(sandbox)
    assert cur.rowcount == -1


def test_closing_a_streamed_cursor_stops_the_scan(cur: dbapi.Cursor, sandbox: SandboxServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from crmql.surfaces.dbapi import stream

    monkeypatch.setattr(stream, "IDLE_RELEASE_S", 600.0)
    cur.execute("SELECT * FROM azavista.contacts")
    cur.fetchone()
    cur.close()
    after_close = _requests(sandbox)
    other = cur.connection.cursor()
    other.execute("SELECT COUNT(*) AS n FROM azavista.organizations")  # the event loop is free
    assert other.fetchone()[0] > 0
    assert after_close < 150


def test_another_statement_while_a_stream_is_paused_loses_no_row(conn: dbapi.Connection, sandbox: SandboxServer) -> None:
    first, second = conn.cursor(), conn.cursor()
    first.execute("SELECT id FROM azavista.events")
    head = first.fetchmany(10)
    second.execute("SELECT name FROM azavista.organizations LIMIT 2")  # releases the paused stream: no deadlock
    assert len(second.fetchall()) == 2
    ids = [r[0] for r in head + first.fetchall()]
    assert len(ids) == EVENTS and len(set(ids)) == EVENTS and first.rowcount == EVENTS


def test_type_codes_and_values_for_every_crmql_type(cur: dbapi.Cursor) -> None:
    cur.execute("SELECT is_virtual, capacity, price FROM azavista.events WHERE is_virtual = true LIMIT 1")
    assert [d[1] for d in cur.description] == ["boolean", "integer", "float"]
    assert cur.description[0][1] == dbapi.BOOLEAN and cur.description[1][1] == dbapi.NUMBER
    virtual, capacity, _ = cur.fetchone()
    assert virtual is True and (capacity is None or type(capacity) is int)
    cur.execute('SELECT renewal_date, segments FROM atlas.companies WHERE segments IS NOT NULL AND renewal_date IS NOT NULL LIMIT 1')
    assert [d[1] for d in cur.description] == ["date", "list"]
    assert cur.description[0][1] == dbapi.DATETIME and cur.description[1][1] == dbapi.STRING
    renewal, segments = cur.fetchone()
    assert type(renewal) is dt.date and isinstance(segments, list)


def test_an_empty_streamed_result_still_describes_its_columns(cur: dbapi.Cursor) -> None:
    cur.execute("SELECT name FROM azavista.events WHERE name = 'no such event, surely'")
    assert [d[0] for d in cur.description] == ["name"] and cur.fetchall() == [] and cur.rowcount == 0
    # no value to look at: the catalog's types (a date and a list column would otherwise be objects)
    for order in ("", " ORDER BY renewal_date"):
        cur.execute(f'SELECT renewal_date, segments FROM atlas.companies WHERE "company-name" = \'none\'{order}')
        assert [d[1] for d in cur.description] == ["date", "list"]


def test_a_paused_stream_never_hangs_other_crmql_users(cur: dbapi.Cursor, sandbox: SandboxServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A session used outside the DB-API (the magic, a script) waits for a paused stream at most
    IDLE_RELEASE_S; the stream then keeps its rest in memory and loses nothing."""
    from crmql.surfaces.dbapi import stream

    monkeypatch.setattr(stream, "IDLE_RELEASE_S", 0.2)
    cur.execute("SELECT id FROM azavista.events")
    head = cur.fetchmany(5)
    with Session(sandbox_config(sandbox.url)) as other:
        assert len(other.query("SELECT name FROM azavista.organizations LIMIT 3")) == 3
    ids = [r[0] for r in head + cur.fetchall()]
    assert len(set(ids)) == EVENTS


def test_a_vendor_failure_mid_stream_is_an_operational_error_at_fetch(sandbox: SandboxServer) -> None:
    config = sandbox_config(sandbox.url)
    config.connections["azavista"].settings.update(max_attempts=1)
    with dbapi.connect(config) as connection:
        cursor = connection.cursor()
        sandbox.settings.faults = "500@70"  # past the first batch (40 pages): execute() has returned
        cursor.execute("SELECT id FROM azavista.contacts")
        assert len(cursor.fetchmany(10)) == 10
        with pytest.raises(dbapi.OperationalError, match="500"):
            cursor.fetchall()
        cursor.execute("SELECT name FROM azavista.events LIMIT 1")  # the cursor is usable again
        assert len(cursor.fetchall()) == 1
