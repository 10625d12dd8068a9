"""The Python API against a sandbox served over HTTP: typed frames, parameters, request counts,
local SQL (aggregates, ordering) checked against pandas over the raw records, and the event loop
bridge from inside a running asyncio loop (as in Jupyter)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import crmql
from crmql.api.config import sandbox_config
from crmql.sandbox import SandboxServer, records
from crmql.api.session import Session

EVENTS = records("azavista", "events", 42)
ORGS = records("azavista", "organizations", 42)
CONTACTS = records("azavista", "contacts", 42)


def searches(server: SandboxServer) -> list[tuple[str, str, int]]:
    return [e for e in server.request_log if e[1].endswith("/search")]


def api_requests(server: SandboxServer) -> list[tuple[str, str, int]]:
    """Every request but token requests."""
    return [e for e in server.request_log if not e[1].endswith("/oauth/token")]


def raw_frame(rows: list[dict], times: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for name in times:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


@pytest.fixture
def session(sandbox: SandboxServer) -> Iterator[Session]:
    with crmql.connect(sandbox_config(sandbox.url)) as s:
        yield s


# ---- typed frames --------------------------------------------------------------------------------

def test_frames_are_typed(session: Session) -> None:
    df = session.query(
        "SELECT id, name, start, is_virtual, capacity, price, venue_name, NULLIF(capacity, 560) AS cap "
        "FROM azavista.events ORDER BY created_at, id LIMIT 60")
    assert isinstance(df.dtypes["start"], pd.DatetimeTZDtype) and str(df.dtypes["start"].tz) == "UTC"
    assert df.dtypes["is_virtual"] == np.dtype(bool)
    assert pd.api.types.is_integer_dtype(df.dtypes["capacity"])
    assert pd.api.types.is_float_dtype(df.dtypes["price"])
    assert pd.api.types.is_string_dtype(df.dtypes["name"]) and pd.api.types.is_string_dtype(df.dtypes["venue_name"])
    # integers with NULLs stay integers (nullable), not floats
    assert pd.api.types.is_integer_dtype(df.dtypes["cap"]) and df["cap"].isna().any()
    first = EVENTS[0]  # records come in (created_at, id) order
    assert df["id"][0] == first["id"]
    assert df["start"][0] == pd.Timestamp(first["start"]).tz_convert("UTC")
    assert df["start"][0].tzinfo is not None and df["start"][0].utcoffset() == dt.timedelta(0)
    assert bool(df["is_virtual"][0]) is first["is_virtual"]
    assert int(df["capacity"][0]) == first["capacity"]


def test_integer_with_nulls_from_a_left_join(session: Session) -> None:
    df = session.query(
        "SELECT c.id, o.employee_count FROM azavista.contacts c "
        "LEFT JOIN azavista.organizations o ON c.organization_id = o.id WHERE c.last_name = 'de Boer'")
    orgs = {o["id"]: o["employee_count"] for o in ORGS}
    want = {c["id"]: orgs.get(c.get("organization_id")) for c in CONTACTS if c["last_name"] == "de Boer"}
    assert len(df) == len(want) and any(v is None for v in want.values())
    assert pd.api.types.is_integer_dtype(df.dtypes["employee_count"])
    got = {r.id: (None if pd.isna(r.employee_count) else int(r.employee_count)) for r in df.itertuples()}
    assert got == want


def test_a_key_missing_from_a_record_is_null(session: Session) -> None:
    missing_venue = {e["id"] for e in EVENTS if "venue_name" not in e}
    missing_price = {e["id"] for e in EVENTS if "price" not in e}
    assert missing_venue and missing_price
    assert set(session.query("SELECT id FROM azavista.events WHERE venue_name IS NULL")["id"]) == missing_venue
    df = session.query("SELECT id, price, currency FROM azavista.events WHERE price IS NULL")
    assert set(df["id"]) == missing_price and df["currency"].isna().all()


def test_strings_round_trip(session: Session) -> None:
    org = next(o for o in ORGS if "'" in o["name"])
    df = session.query("SELECT id, name, website FROM azavista.organizations WHERE name = :n", {"n": org["name"]})
    assert list(df["id"]) == [org["id"]] and df["name"][0] == org["name"] and df["website"][0] == org["website"]
    accented = next(o for o in ORGS if any(ord(ch) > 127 for ch in o["name"]))
    df = session.query("SELECT name FROM azavista.organizations WHERE id = :id", {"id": accented["id"]})
    assert df["name"][0] == accented["name"]


# ---- explain and parameters ----------------------------------------------------------------------

def test_explain_returns_text(session: Session, sandbox: SandboxServer) -> None:
    text = session.explain("SELECT name FROM azavista.events WHERE event_type = 'sales' AND name LIKE '%Workshop%'")
    assert isinstance(text, str)
    assert "POST /3.0/event/search" in text and '"event_type"' in text and '"like": "Workshop"' in text
    assert session.explain("EXPLAIN SELECT name FROM azavista.events").startswith("Scan azavista.events")
    assert not any(e[1].endswith("/event/search") and e[0] == "GET" for e in sandbox.request_log)


def test_parameters_are_values_never_sql(session: Session, sandbox: SandboxServer) -> None:
    evil = "x' OR 1=1 --"
    assert session.query("SELECT id FROM azavista.events WHERE name = :n", {"n": evil}).empty
    assert session.query("SELECT id FROM azavista.events WHERE name LIKE :n", {"n": f"%{evil}%"}).empty
    assert session.query("SELECT id FROM azavista.events WHERE event_type IN :t", {"t": [evil, "' OR ''='"]}).empty
    # a real value with a quote in it is found, as a value
    contact = next(c for c in CONTACTS if "'" in c["last_name"])
    df = session.query("SELECT id FROM azavista.contacts WHERE last_name = :n AND first_name = :f",
                       {"n": contact["last_name"], "f": contact["first_name"]})
    assert contact["id"] in set(df["id"])
    assert all(c["last_name"] == contact["last_name"] for c in CONTACTS if c["id"] in set(df["id"]))


def test_in_with_a_list_parameter(session: Session) -> None:
    ids = [EVENTS[3]["id"], EVENTS[77]["id"], "000000000000000000000000"]
    df = session.query("SELECT id, name FROM azavista.events WHERE id IN :ids ORDER BY id", {"ids": ids})
    assert list(df["id"]) == sorted(ids[:2])
    types = ("sales", "webinar")
    df = session.query("SELECT COUNT(*) AS n FROM azavista.events WHERE event_type IN :t", {"t": types})
    assert df["n"][0] == sum(e["event_type"] in types for e in EVENTS)


def test_typed_parameters(session: Session) -> None:
    at = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    df = session.query("SELECT id FROM azavista.events WHERE start >= :at AND capacity > :c AND is_virtual = :v",
                       {"at": at, "c": 100, "v": False})
    want = {e["id"] for e in EVENTS if pd.Timestamp(e["start"]) >= at and e["capacity"] > 100 and not e["is_virtual"]}
    assert set(df["id"]) == want and want


# ---- request counts -------------------------------------------------------------------------------

def test_get_by_id_is_exactly_one_get(session: Session, sandbox: SandboxServer) -> None:
    event = EVENTS[42]
    sandbox.reset_log()
    df = session.query(f"SELECT name, start FROM azavista.events WHERE id = '{event['id']}'")
    assert list(df["name"]) == [event["name"]]
    assert api_requests(sandbox) == [("GET", f"/azavista/3.0/event/{event['id']}", 200)]


def test_unknown_id_is_no_row_not_an_error(session: Session, sandbox: SandboxServer) -> None:
    sandbox.reset_log()
    assert session.query("SELECT name FROM azavista.events WHERE id = '000000000000000000000000'").empty
    assert [s for _, _, s in api_requests(sandbox)] == [404]


def test_select_star_limit_is_one_search(session: Session, sandbox: SandboxServer) -> None:
    sandbox.reset_log()
    result = session.execute("SELECT * FROM azavista.contacts LIMIT 10")
    assert len(result.frame) == 10
    assert [e[:2] for e in api_requests(sandbox)] == [("POST", "/azavista/3.1/contact/search")]
    assert result.stats.pages == 1 and result.stats.rows_fetched == 10
    assert list(result.frame["id"]) == [c["id"] for c in CONTACTS[:10]]


def test_count_is_one_search_with_the_right_number(session: Session, sandbox: SandboxServer) -> None:
    sandbox.reset_log()
    df = session.query("SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales'")
    assert df.iloc[0, 0] == sum(e["event_type"] == "sales" for e in EVENTS) > 0
    assert [e[:2] for e in api_requests(sandbox)] == [("POST", "/azavista/3.0/event/search")]


def test_count_of_a_whole_table_is_one_search(session: Session, sandbox: SandboxServer) -> None:
    sandbox.reset_log()
    result = session.execute("SELECT COUNT(*) AS n FROM azavista.contacts")
    assert result.frame["n"][0] == len(CONTACTS)
    assert len(api_requests(sandbox)) == 1 and result.stats.rows_fetched <= 1


def test_a_contradiction_makes_no_request(sandbox: SandboxServer) -> None:
    with crmql.connect(sandbox_config(sandbox.url)) as session:  # fresh: no token yet either
        sandbox.reset_log()
        for sql in ("SELECT * FROM azavista.events WHERE capacity = 1 AND capacity = 2",
                    "SELECT id FROM azavista.events WHERE event_type = 'sales' AND event_type IN ('webinar')",
                    "SELECT id FROM azavista.events WHERE start > '2025-01-02' AND start < '2025-01-01'",
                    "SELECT COUNT(*) AS n FROM azavista.contacts WHERE city IS NULL AND city = 'Berlin'"):
            result = session.execute(sql)
            assert len(result.frame) in (0, 1) and result.stats.requests == 0, sql
        assert sandbox.request_log == []


def test_limit_with_a_residual_stops_early(session: Session, sandbox: SandboxServer) -> None:
    sandbox.reset_log()
    result = session.execute("SELECT id, first_name FROM azavista.contacts WHERE first_name != 'Sanne' LIMIT 3")
    assert len(result.frame) == 3 and "Sanne" not in set(result.frame["first_name"])
    assert result.stats.pages == 1 and len(searches(sandbox)) == 1  # a full scan is 200 pages
    # a sparse match: pages are read one at a time until enough rows pass, never all 200
    want = [c["id"] for c in CONTACTS if c["last_name"].endswith("son") and c["first_name"] != "x"]
    sandbox.reset_log()
    result = session.execute("SELECT id FROM azavista.contacts WHERE last_name LIKE '%son' AND first_name != 'x' LIMIT 5")
    assert list(result.frame["id"]) == want[:5]
    assert result.stats.pages < 200 and len(searches(sandbox)) == result.stats.pages


def test_exact_limit_is_the_page_size(session: Session, sandbox: SandboxServer) -> None:
    sandbox.reset_log()
    result = session.execute("SELECT id FROM azavista.events WHERE event_type = 'webinar' LIMIT 70")
    want = [e["id"] for e in EVENTS if e["event_type"] == "webinar"][:70]
    assert list(result.frame["id"]) == want
    assert len(searches(sandbox)) == 2 and result.stats.rows_fetched == 70


# ---- the local SQL, against pandas over the raw records ------------------------------------------

def test_group_by_having_and_aggregates(session: Session) -> None:
    df = session.query(
        "SELECT event_type, COUNT(*) AS n, SUM(capacity) AS cap, AVG(price) AS avg_price, "
        "MIN(start) AS first, MAX(registered_count) AS max_reg, COUNT(price) AS priced "
        "FROM azavista.events GROUP BY event_type HAVING COUNT(*) > 300 ORDER BY n DESC, event_type")
    raw = raw_frame(EVENTS, ("start",))
    g = raw.groupby("event_type").agg(n=("id", "size"), cap=("capacity", "sum"), avg_price=("price", "mean"),
                                      first=("start", "min"), max_reg=("registered_count", "max"),
                                      priced=("price", "count")).reset_index()
    g = g[g["n"] > 300].sort_values(["n", "event_type"], ascending=[False, True]).reset_index(drop=True)
    assert list(df["event_type"]) == list(g["event_type"]) and len(g) >= 2
    assert list(df["n"]) == list(g["n"])
    assert [int(x) for x in df["cap"]] == [int(x) for x in g["cap"]]
    assert np.allclose(df["avg_price"].astype(float), g["avg_price"].astype(float), equal_nan=True)
    assert list(df["first"]) == list(g["first"])
    assert list(df["max_reg"]) == list(g["max_reg"]) and list(df["priced"]) == list(g["priced"])


def test_count_distinct_and_distinct(session: Session) -> None:
    raw = raw_frame(ORGS)
    df = session.query("SELECT COUNT(DISTINCT industry) AS n, COUNT(DISTINCT country) AS c FROM azavista.organizations")
    assert df["n"][0] == raw["industry"].nunique() and df["c"][0] == raw["country"].nunique()
    df = session.query("SELECT DISTINCT industry FROM azavista.organizations ORDER BY industry")
    assert list(df["industry"]) == sorted(raw["industry"].unique())
    df = session.query("SELECT DISTINCT country, industry FROM azavista.organizations WHERE employee_count > 1000")
    want = raw[raw["employee_count"] > 1000][["country", "industry"]].drop_duplicates()
    assert set(map(tuple, df.to_numpy())) == set(map(tuple, want.to_numpy()))


def test_order_by_limit_offset(session: Session) -> None:
    raw = raw_frame(ORGS).sort_values(["employee_count", "id"], ascending=[False, True])
    df = session.query("SELECT id, employee_count FROM azavista.organizations ORDER BY employee_count DESC, id LIMIT 7 OFFSET 10")
    assert list(df["id"]) == list(raw["id"].iloc[10:17])
    df = session.query("SELECT id FROM azavista.organizations WHERE country = 'NL' ORDER BY name ASC, id DESC LIMIT 5")
    nl = raw_frame(ORGS)
    nl = nl[nl["country"] == "NL"].sort_values(["name", "id"], ascending=[True, False])
    assert list(df["id"]) == list(nl["id"].iloc[:5])


def test_expressions(session: Session) -> None:
    df = session.query(
        "SELECT id, capacity - registered_count AS free, ROUND(price * 1.21, 2) AS gross, UPPER(name) AS shout, "
        "LENGTH(name) AS len, COALESCE(venue_name, 'online') AS venue, capacity * 2 + 1 AS odd "
        "FROM azavista.events WHERE price IS NOT NULL AND capacity - registered_count < 50 ORDER BY id")
    raw = raw_frame(EVENTS)
    raw = raw[raw["price"].notna() & (raw["capacity"] - raw["registered_count"] < 50)].sort_values("id")
    assert len(df) == len(raw) > 0
    assert list(df["free"]) == list(raw["capacity"] - raw["registered_count"])
    # ROUND(x, 2) is applied (two decimals, within half a cent of the exact product); which way a
    # binary double such as 149.5 * 1.21 = 180.894999... rounds is DuckDB's business, not crmql's
    gross, exact = df["gross"].astype(float).to_numpy(), (raw["price"] * 1.21).to_numpy()
    assert np.allclose(gross, np.round(gross, 2)) and np.all(np.abs(gross - exact) <= 0.005 + 1e-9)
    assert list(df["shout"]) == [n.upper() for n in raw["name"]]
    assert list(df["len"]) == [len(n) for n in raw["name"]]
    assert list(df["venue"]) == [v if isinstance(v, str) else "online" for v in raw["venue_name"]]
    assert list(df["odd"]) == list(raw["capacity"] * 2 + 1)


def test_group_by_an_expression_over_timestamps(session: Session) -> None:
    df = session.query("SELECT YEAR(start) AS y, COUNT(*) AS n FROM azavista.events GROUP BY YEAR(start) ORDER BY y")
    years = pd.Series([pd.Timestamp(e["start"]).tz_convert("UTC").year for e in EVENTS]).value_counts().sort_index()
    assert list(df["y"]) == list(years.index) and list(df["n"]) == list(years.values)


# ---- the event loop bridge ------------------------------------------------------------------------

def test_query_from_inside_a_running_event_loop(session: Session) -> None:
    """A Jupyter kernel already runs an asyncio loop in the calling thread."""
    async def notebook_cell() -> tuple[pd.DataFrame, str]:
        assert asyncio.get_running_loop().is_running()
        frame = session.query("SELECT COUNT(*) AS n FROM azavista.organizations WHERE country = :c", {"c": "NL"})
        text = session.explain("SELECT name FROM azavista.organizations WHERE country = 'NL'")
        return frame, text

    frame, text = asyncio.run(notebook_cell())
    assert frame["n"][0] == sum(o["country"] == "NL" for o in ORGS)
    assert "organization/search" in text


def test_module_level_query_and_a_second_session(sandbox: SandboxServer) -> None:
    config = sandbox_config(sandbox.url)
    df = crmql.query("SELECT COUNT(*) AS n FROM azavista.organizations", config=config)
    assert df["n"][0] == len(ORGS)
    assert "organization/search" in crmql.explain("SELECT name FROM azavista.organizations", config=config)


def test_errors_are_crmql_errors(session: Session) -> None:
    with pytest.raises(crmql.QuerySyntaxError):
        session.query("SELEC name FROM azavista.events")
    with pytest.raises(crmql.QueryError, match="nme"):
        session.query("SELECT nme FROM azavista.events")
    with pytest.raises(crmql.QueryError):
        session.query("SELECT name FROM azavista.events WHERE name = :missing")
