"""Atlas CRM end to end over real HTTP: the simulator served on loopback, crmql sessions on it, and
the ``crmql`` command with a TOML config for it, run through its ``main`` in the test's process (one
run, the wrong secret's exit code, as a subprocess).

* Template changes: custom fields of every type added and one renamed through the simulator's
  hooks are seen only after ``connector.refresh()`` (what ``\\refresh`` calls), by readable name
  and by UUID, in SELECT, WHERE (pushed) and DESCRIBE.
* URL encoding: entities created through the API with hostile names (``& = [ ] % + # ?``, quotes,
  spaces, non-ASCII, emoji) are found exactly by ``=``, ``IN`` and ``LIKE``, across next links.
* The CLI: the issue's three commands, links, the missing-filter error (exit 1), a wrong secret
  (exit 3), faults mid-scan (503, 429) with a complete result, ``Content-Type`` on every request
  (the simulator answers 400 without it), and the request counts the issue targets.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmql.api.config import sandbox_config
from crmql.errors import QueryError
from crmql.sandbox import CREDENTIALS, SandboxServer, records
from crmql.sandbox.atlas.simulator import AtlasSimulator
from crmql.sandbox.atlas.filter import FIELD_TYPES
from crmql.api.session import Session

from cli_support import Run, ok, parallel, run_crmql, run_crmql_in_process

from vendors.atlas.support import request_kinds as _log

SECRET = CREDENTIALS["atlas"]["client_secret"]
API = "/api/1.0/workspace/CRM"
SALES = records("atlas", "sales", 42)
COMPANIES = records("atlas", "companies", 42)
LINKS = records("atlas", "links", 42)
FAST = {"retry_base_s": 0.001, "retry_cap_s": 0.01}

ISSUE_SALES = ('SELECT "sale-name", "sale-balance", "sale-status" FROM atlas.sales WHERE "sale-status" IN (\'won\', \'lost\') '
               'AND "sale-balance" >= 500 ORDER BY "sale-balance"')
ISSUE_EXPLAIN = "EXPLAIN SELECT * FROM atlas.contacts WHERE \"contact-email\" LIKE '%@gmail.com' OR \"contact-name\" = 'Tom'"
COUNT_OPEN = "SELECT COUNT(*) FROM atlas.sales WHERE \"sale-status\" = 'open'"
STATS = re.compile(r"^stats: requests=(\d+) pages=(\d+) rows_fetched=(\d+) rows=(\d+) retries=(\d+) elapsed_ms=(\d+)$", re.M)


# ---- helpers and fixtures ---------------------------------------------------------------------------

def session_on(server: SandboxServer, **settings: Any) -> Session:
    config = sandbox_config(server.url)
    config.connections["atlas"].settings.update({**FAST, **settings})
    return Session(config)


class AtlasAPI:
    """A raw client of the simulator's write API (what another Atlas user would do)."""

    def __init__(self, server: SandboxServer) -> None:
        self.http = httpx.Client(base_url=f"{server.url}/atlas", timeout=30)
        token = self.http.post("/api/1.0/oauth/token", data={"grant_type": "client_credentials", **CREDENTIALS["atlas"]})
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}", "Content-Type": "application/json"}

    def create(self, etype: str, fields: dict[str, Any]) -> str:
        r = self.http.post(f"{API}/entities", json={"type": etype, "fields": fields}, headers=self.headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def update(self, entity_id: str, fields: dict[str, Any]) -> None:
        r = self.http.put(f"{API}/entities/{entity_id}", json={"fields": fields}, headers=self.headers)
        assert r.status_code == 200, r.text

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def atlas_sim(sandbox: SandboxServer) -> Iterator[AtlasSimulator]:
    """The Atlas simulator's test hooks; every write and template change is dropped afterwards."""
    sim = sandbox.state.vendor("atlas")
    sim.reset()
    yield sim
    sim.reset()


@pytest.fixture
def api(sandbox: SandboxServer, atlas_sim: AtlasSimulator) -> Iterator[AtlasAPI]:
    client = AtlasAPI(sandbox)
    yield client
    client.close()


# ---- template changes -------------------------------------------------------------------------------

NEW_FIELDS = {  # field type -> (label, options, value written, WHERE on the readable name)
    "string": ("Probe String", None, "Probe & value", "{c} = 'Probe & value'"),
    "text": ("Probe Text", None, "multi\nline [text]", "{c} LIKE '%line [text]%'"),
    "date": ("Probe Date", None, "2024-02-29", "{c} = DATE '2024-02-29'"),
    "timestamp": ("Probe Timestamp", None, "2024-02-29T12:34:56.789Z", "{c} >= TIMESTAMP '2024-02-29T12:34:56.789Z'"),
    "decimal": ("Probe Decimal", None, 12.5, "{c} BETWEEN 12.5 AND 12.5"),
    "user": ("Probe User", None, "5b10ac8d82e05b22cc7d4ef5", "{c} = '5b10ac8d82e05b22cc7d4ef5'"),
    "single-select": ("Probe Single", ["Alpha", "Beta & Co"], "Beta & Co", "{c} IN ('Beta & Co', 'x')"),
    "multi-select": ("Probe Multi", ["Alpha", "Beta & Co"], ["Alpha", "Beta & Co"], "list_contains({c}, 'Beta & Co')"),
}
SLUGS = {"string": "probe_string", "text": "probe_text", "date": "probe_date", "timestamp": "probe_timestamp",
         "decimal": "probe_decimal", "user": "probe_user", "single-select": "probe_single", "multi-select": "probe_multi"}
TYPES = {"string": "string", "text": "string", "date": "date", "timestamp": "timestamp", "decimal": "float",
         "user": "string", "single-select": "string", "multi-select": "list"}


def test_new_fields_of_every_type_are_seen_after_refresh(sandbox: SandboxServer, atlas_sim: AtlasSimulator,
                                                        api: AtlasAPI) -> None:
    assert set(NEW_FIELDS) == set(FIELD_TYPES)
    contact = records("atlas", "contacts", 42)[17]["id"]
    with session_on(sandbox) as session:
        before = session.describe("atlas", "contacts")
        ids = {ftype: atlas_sim.add_custom_field("contact", label, ftype, options)
               for ftype, (label, options, _value, _where) in NEW_FIELDS.items()}
        api.update(contact, {ids[t]: spec[2] for t, spec in NEW_FIELDS.items()})

        # the session's catalog is cached: neither the readable name nor the UUID is known yet
        for ftype in NEW_FIELDS:
            for name in (SLUGS[ftype], ids[ftype]):
                with pytest.raises(QueryError, match="unknown column"):
                    session.query(f'SELECT "{name}" FROM atlas.contacts LIMIT 1')
        assert session.describe("atlas", "contacts").equals(before)

        sandbox.reset_log()
        session.connector("atlas").refresh()  # what \refresh does for each connection
        described = session.describe("atlas", "contacts").set_index("column")
        assert _log(sandbox)["template"] == 1  # the contacts template, read again
        for ftype, fid in ids.items():
            row = described.loc[SLUGS[ftype]]
            assert row["field_id"] == fid and row["type"] == TYPES[ftype], (ftype, row.to_dict())
            assert row["pushed_filters"] != "(local only)"
        assert len(described) == len(before) + len(NEW_FIELDS)

        for ftype, (_label, _options, _value, where) in NEW_FIELDS.items():
            for name in (SLUGS[ftype], ids[ftype]):  # by readable name and by UUID
                sql = f'SELECT id, "{name}" FROM atlas.contacts WHERE {where.format(c=f"{chr(34)}{name}{chr(34)}")}'
                frame = session.query(sql)
                assert list(frame["id"]) == [contact], (sql, frame)
                plan = session.explain(sql)
                assert f"fields.{ids[ftype]}%5B" in plan, plan  # pushed, under its UUID
        row = session.query(f'SELECT * FROM atlas.contacts WHERE id = \'{contact}\'').iloc[0]
        assert row["probe_string"] == "Probe & value" and row["probe_decimal"] == 12.5
        assert list(row["probe_multi"]) == ["Alpha", "Beta & Co"]


def test_a_renamed_field_is_seen_after_refresh(sandbox: SandboxServer, atlas_sim: AtlasSimulator) -> None:
    """A rename changes the readable name (after refresh); the UUID keeps working throughout."""
    deal_type = next(f["id"] for s in atlas_sim.template("sale")["sections"] for f in s["fields"]
                     if f["label"] == "Deal Type")
    want = {r["id"] for r in SALES if r["fields"].get(deal_type) == "Renewal"}
    with session_on(sandbox) as session:
        assert set(session.query("SELECT id FROM atlas.sales WHERE deal_type = 'Renewal'")["id"]) == want
        atlas_sim.rename_field("sale", deal_type, "Contract Kind")
        # not refreshed yet: the old name still works, the new one does not
        assert set(session.query("SELECT id FROM atlas.sales WHERE deal_type = 'Renewal'")["id"]) == want
        with pytest.raises(QueryError, match="unknown column 'contract_kind'"):
            session.query("SELECT contract_kind FROM atlas.sales LIMIT 1")
        session.connector("atlas").refresh()
        assert set(session.query("SELECT id FROM atlas.sales WHERE contract_kind = 'Renewal'")["id"]) == want
        assert set(session.query(f"SELECT id FROM atlas.sales WHERE \"{deal_type}\" = 'Renewal'")["id"]) == want
        with pytest.raises(QueryError, match="unknown column 'deal_type'"):
            session.query("SELECT deal_type FROM atlas.sales LIMIT 1")
        described = session.describe("atlas", "sales").set_index("column")
        assert described.loc["contract_kind", "field_id"] == deal_type and "deal_type" not in described.index
        assert "Contract Kind" in described.loc["contract_kind", "description"]


def test_a_new_session_reads_the_current_template(sandbox: SandboxServer, atlas_sim: AtlasSimulator) -> None:
    fid = atlas_sim.add_custom_field("company", "Größe", "string")  # slugs like the existing "Größe": grosse_2
    with session_on(sandbox) as session:
        described = session.describe("atlas", "companies").set_index("column")
        assert described.loc["grosse", "type"] == "string" and described.loc["grosse_2", "field_id"] == fid
        assert session.query('SELECT COUNT(*) AS n FROM atlas.companies WHERE grosse_2 IS NULL')["n"][0] == len(COMPANIES)


# ---- URL encoding of hostile values ---------------------------------------------------------------

HOSTILE = [
    "a&b=c", "x[eq]=y&fields.contact-name=Tom", "100% sure", "1+1=2", "#hashtag", "why?", "O'Brien", 'say "hi"',
    "two  spaces ", "Ünïcødé Straße", "emoji 😀🚀", "back\\slash", "%25 encoded %2B", "a;b,c/d:e@f", "tab\tchar",
    "&&==[[]]%%++##??", "日本語の名前",
]
#: > 100 entities share this, so a LIKE on it needs a next link carrying the hostile value
SHARED = "Hostile &=[]+#?'\" é😀 "


def _like(pattern: str, value: str) -> bool:
    """SQL LIKE without an escape character: % any run, _ one character, case-sensitive."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def test_hostile_values_are_found_exactly(sandbox: SandboxServer, api: AtlasAPI) -> None:
    made = {api.create("contact", {"contact-name": name}): name for name in HOSTILE}
    made.update({api.create("contact", {"contact-name": f"{SHARED}{i:03d}"}): f"{SHARED}{i:03d}" for i in range(105)})
    names = {r["id"]: r["fields"]["contact-name"] for r in records("atlas", "contacts", 42)} | made
    with session_on(sandbox) as session:
        for name in HOSTILE:
            got = session.query('SELECT id, "contact-name" FROM atlas.contacts WHERE "contact-name" = :v', {"v": name})
            assert set(got["id"]) == {i for i, n in names.items() if n == name} and len(got) == 1, name
            assert list(got["contact-name"]) == [name]
            pattern = f"%{name}%"
            got = session.query('SELECT id FROM atlas.contacts WHERE "contact-name" LIKE :p', {"p": pattern})
            assert set(got["id"]) == {i for i, n in names.items() if _like(pattern, n)}, name
        three = HOSTILE[:3]
        got = session.query('SELECT id FROM atlas.contacts WHERE "contact-name" IN (:a, :b, :c)',
                            dict(zip("abc", three)))
        assert set(got["id"]) == {i for i, n in names.items() if n in three}

        sandbox.reset_log()
        like_shared = f"%{SHARED.strip()}%"
        result = session.execute('SELECT id FROM atlas.contacts WHERE "contact-name" LIKE :p', {"p": like_shared})
        assert set(result.frame["id"]) == {i for i, n in names.items() if _like(like_shared, n)}
        assert len(result.frame) == 105
        assert _log(sandbox)["entities"] == 2 and result.stats.pages == 2  # the next link was followed
        assert all(200 <= status < 300 for _m, _p, status in sandbox.request_log)

        # the hostile value as the request carries it: percent-encoded, decoded back exactly
        text = session.explain('SELECT id FROM atlas.contacts WHERE "contact-name" = :v', {"v": HOSTILE[1]})
        assert "fields.contact-name%5Beq%5D=x%5Beq%5D%3Dy%26fields.contact-name%3DTom" in text, text


# ---- Content-Type and the request mix, in process --------------------------------------------------

def test_content_type_on_every_request(sandbox: SandboxServer) -> None:
    """The simulator answers 400 to any request without ``Content-Type: application/json``; a session
    that makes every kind of request (template, list, count, GET by id, links) gets no such answer."""
    raw = AtlasAPI(sandbox)
    try:
        bare = {"Authorization": raw.headers["Authorization"]}
        no_type = raw.http.get(f"{API}/entities", params={"type": "sale"}, headers=bare)
        assert no_type.status_code == 400 and "Content-Type" in no_type.json()["message"]
    finally:
        raw.close()
    sale, company = SALES[5]["id"], COMPANIES[9]["id"]
    sandbox.reset_log()
    with session_on(sandbox) as session:
        session.query("SELECT id FROM atlas.sales WHERE \"sale-status\" = 'won' LIMIT 120")
        session.query(COUNT_OPEN)
        session.query(f"SELECT * FROM atlas.sales WHERE id IN ('{sale}', 'no-such-id')")
        session.query(f"SELECT * FROM atlas.links WHERE entity_id = '{company}' AND other_type = 'contact'")
        session.query("SELECT id FROM atlas.companies WHERE arr >= 1000000 ORDER BY arr LIMIT 3")
        session.explain(ISSUE_EXPLAIN)
    kinds = _log(sandbox)
    assert kinds["token"] == 1 and kinds["template"] == 3 and kinds["entities"] >= 6  # sales, links: none, companies, contacts
    assert kinds["entity"] == 2 and kinds["links"] == 1
    statuses = {status for _m, path, status in sandbox.request_log if not path.endswith("/no-such-id")}
    assert statuses == {200}, sandbox.request_log


# ---- the CLI ----------------------------------------------------------------------------------------

@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path, write_config: Callable[..., Path]) -> Path:
    path = write_config(tmp_path / "crmql.toml", sandbox.url)
    text = path.read_text(encoding="utf-8")
    fast = "".join(f"{k} = {v}\n" for k, v in FAST.items())
    path.write_text(text.replace("[connections.atlas]\n", f"[connections.atlas]\n{fast}"), encoding="utf-8")
    return path


@pytest.fixture
def crmql(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Run]]:
    """``crmql(*args, config=path, process=False)`` runs the command through its ``main`` in this
    process (``process``: ``python -m crmql`` in a subprocess); no run may leak the secret or a traceback."""
    runs: list[Run] = []

    def run(*args: str, config: Path, process: bool = False) -> Run:
        argv = ["--config", str(config), *args]
        if process:
            result = run_crmql(argv, env=cli_env, cwd=tmp_path, timeout=120)
        else:  # the command's own code, without a Python start-up per run
            result = run_crmql_in_process(argv, env=cli_env, cwd=tmp_path)
        runs.append(result)
        return result

    yield run
    for r in runs:
        assert SECRET not in r.stdout + r.stderr, f"the secret leaked:\n{r}"
        assert "Traceback" not in r.stderr, str(r)


def issue_sales() -> list[dict[str, Any]]:
    rows = [r["fields"] for r in SALES if r["fields"].get("sale-status") in ("won", "lost")
            and r["fields"].get("sale-balance") is not None and r["fields"]["sale-balance"] >= 500]
    return sorted(rows, key=lambda f: f["sale-balance"])


def test_the_issue_sales_query_and_its_request_count(crmql: Callable[..., Run], config: Path,
                                                      sandbox: SandboxServer) -> None:
    want = issue_sales()
    sandbox.reset_log()
    run = ok(crmql("-e", ISSUE_SALES, "--format", "json", "--stats", config=config))
    got = json.loads(run.stdout)
    assert len(got) == len(want) > 1000
    assert [r["sale-balance"] for r in got] == [f["sale-balance"] for f in want]
    assert sorted((r["sale-name"], r["sale-status"]) for r in got) == sorted((f["sale-name"], f["sale-status"]) for f in want)
    requests, pages, fetched, rows, retries, _ = map(int, STATS.search(run.stderr).groups())
    limit = math.ceil(len(want) / 100) + 2  # every pushed condition is exact: matching = the result
    log = _log(sandbox)
    assert requests == sum(log.values()) <= limit, (requests, log, limit)
    assert log == {"token": 1, "template": 1, "entities": pages, "entity": 0, "links": 0, "other": 0}
    assert fetched == rows == len(want) and retries == 0


def test_count_of_open_sales_is_one_entities_request(crmql: Callable[..., Run], config: Path,
                                                      sandbox: SandboxServer) -> None:
    sandbox.reset_log()
    run = ok(crmql("-e", COUNT_OPEN, "--format", "csv", "--stats", config=config))
    assert run.stdout.split() == ["COUNT(*)", str(sum(r["fields"]["sale-status"] == "open" for r in SALES))]
    assert _log(sandbox) == {"token": 1, "template": 1, "entities": 1, "entity": 0, "links": 0, "other": 0}


def test_describe_explain_links_and_errors(crmql: Callable[..., Run], config: Path, sandbox: SandboxServer,
                                           tmp_path: Path) -> None:
    companies = {c["id"] for c in COMPANIES}
    company = Counter(lk["entity_id"] for lk in LINKS if lk["entity_id"] in companies).most_common(1)[0][0]
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text(encoding="utf-8").replace(SECRET, "not-the-secret"), encoding="utf-8")
    describe, explain, links, missing, wrong = parallel(
        lambda: crmql("-e", "DESCRIBE atlas.contacts", "--format", "csv", config=config),
        lambda: crmql("-e", ISSUE_EXPLAIN, config=config),
        lambda: crmql("-e", f"SELECT * FROM atlas.links WHERE entity_id = '{company}'", "--format", "json", config=config),
        lambda: crmql("-e", "SELECT * FROM atlas.links", config=config),
        lambda: crmql("-e", "SELECT \"sale-name\" FROM atlas.sales LIMIT 1", config=bad, process=True),  # exit 3 of a process
    )
    # DESCRIBE: built-in fields by id, custom fields by readable name with their UUID, types, operators
    cols = {r["column"]: r for r in csv.DictReader(io.StringIO(ok(describe).stdout))}
    assert list(cols)[:3] == ["id", "type", "contact-name"]
    assert cols["contact-name"]["field_id"] == "" and cols["contact-name"]["pushed_filters"] == "=, IN, LIKE"
    assert cols["contact-birthday"]["type"] == "date" and "BETWEEN" in cols["contact-birthday"]["pushed_filters"]
    assert cols["contact-notes"]["pushed_filters"] == "LIKE"
    assert re.fullmatch(r"[0-9a-f-]{36}", cols["lead_source"]["field_id"]) and "Website" in cols["lead_source"]["options"]
    assert cols["newsletter_topics"]["type"] == "list" and cols["newsletter_topics"]["pushed_filters"] == "list_contains"
    assert cols["score"]["type"] == "float" and cols["last_login"]["type"] == "timestamp"
    assert cols["e_mail"]["field_id"] and cols["buddy"]["pushed_filters"] == "=, IN"
    # EXPLAIN: the OR across fields is split into one request per branch
    text = ok(explain).stdout
    requests = re.findall(r"^\s+GET (/\S+)$", text, re.M)
    assert requests == [f"{API}/entities?type=contact&limit=100&fields.contact-email%5Bcontains%5D=%40gmail.com",
                        f"{API}/entities?type=contact&limit=100&fields.contact-name%5Beq%5D=Tom"], text
    assert "split, one request per branch" in text and "de-duplicated by id" in text
    assert re.search(r"1-row probes found \d+ matching row\(s\) across the 2 requests", text), text
    # links of one company: every link, as the raw data has it
    got = sorted((r["other_entity_id"], r["other_type"], tuple(r["roles"])) for r in json.loads(ok(links).stdout))
    assert got == sorted((lk["other_entity_id"], lk["other_type"], tuple(lk["roles"])) for lk in LINKS
                         if lk["entity_id"] == company) and len(got) > 20
    # the required filter: exit 1, naming the table, the column, the operators and an example
    assert missing.returncode == 1 and missing.stdout == ""
    assert "atlas.links needs a filter on entity_id (= or IN)" in missing.stderr
    assert "e.g. SELECT * FROM atlas.links WHERE entity_id = '" in missing.stderr
    # a wrong client secret: exit 3, a clean message
    assert wrong.returncode == 3 and wrong.stdout == "", str(wrong)
    assert "authentication failed" in wrong.stderr.lower() and "Atlas" in wrong.stderr
    assert "not-the-secret" not in wrong.stderr


def test_faults_mid_scan_give_a_complete_result(crmql: Callable[..., Run], config: Path,
                                                sandbox: SandboxServer) -> None:
    """A 503 and a 429 (Retry-After 0) on pages of the scan: retried, and the result is complete.
    Every request was answered 2xx but those two, so Content-Type was on every one of them."""
    sandbox.settings.retry_after = "0"
    sandbox.settings.faults = "503@4,429@9"  # counted API requests: 1 is the template, 2.. the pages
    sandbox.reset_log()
    run = ok(crmql("-e", ISSUE_SALES, "--format", "csv", "--stats", config=config))
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    want = issue_sales()
    assert [float(r["sale-balance"]) for r in rows] == [f["sale-balance"] for f in want]
    requests, pages, _fetched, count, retries, _ = map(int, STATS.search(run.stderr).groups())
    assert count == len(want) and retries == 2 and pages == math.ceil(len(want) / 100)
    statuses = sorted(status for _m, _p, status in sandbox.request_log)
    assert statuses.count(503) == 1 and statuses.count(429) == 1 and set(statuses) == {200, 429, 503}
    assert requests == len(statuses) == pages + 4  # token, template, pages, two retries
