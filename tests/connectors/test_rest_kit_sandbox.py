"""The plan's requests are the requests sent: for Azavista and Atlas on the sandbox (real HTTP),
the first request of every scan the fetcher sends is, method, path, parameters and body, one of
the requests the plan holds (and EXPLAIN shows), and every request the plan holds is sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from crmql.api.session import Session
from crmql.http.client import HttpClient
from crmql.language import ast
from crmql.language.parser import parse
from crmql.plan.connector import Mode
from crmql.sandbox import SandboxServer

QUERIES = [
    "SELECT name FROM azavista.events WHERE event_type = 'sales' AND name LIKE '%Work%'",
    "SELECT * FROM azavista.contacts WHERE country IN ('NL', 'DE') LIMIT 7",
    "SELECT COUNT(*) FROM azavista.events WHERE event_type = 'sales'",
    "SELECT first_name FROM azavista.contacts WHERE id IN ('5a4a43a717f22dd2899cf711', 'zz')",
    'SELECT "sale-name" FROM atlas.sales WHERE "sale-status" IN (\'won\', \'lost\') AND "sale-balance" >= 500',
    'SELECT "contact-name" FROM atlas.contacts WHERE "contact-email" LIKE \'%@gmail.com\' OR "contact-name" = \'Tom\'',
    'SELECT "sale-name" FROM atlas.sales ORDER BY "sale-balance" LIMIT 3',
    "SELECT COUNT(*) FROM atlas.companies",
]


def _shown(method: str, url: str, params: Any, body: Any) -> str:
    path = url.split("://", 1)[-1]
    path = path[path.find("/"):] if "://" in url else url
    line = f"{method} {path}" + (f"?{urlencode(params, doseq=True)}" if params else "")
    return line + (f"\n{json.dumps(body, ensure_ascii=False, default=str)}" if body is not None else "")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every request the connectors send (not the token's), rendered as EXPLAIN renders one."""
    log: list[str] = []
    original = HttpClient.request

    async def recording(self: HttpClient, method: str, url: str, **kwargs: Any) -> Any:
        log.append(_shown(method.upper(), url, kwargs.get("params"), kwargs.get("json")))
        return await original(self, method, url, **kwargs)

    monkeypatch.setattr(HttpClient, "request", recording)
    yield log


@pytest.mark.parametrize("sql", QUERIES)
def test_the_planned_requests_are_the_requests_sent(sql: str, sandbox: SandboxServer,
                                                    make_session: Callable[..., Session], sent: list[str]) -> None:
    session = make_session()
    stmt = parse(sql)
    assert isinstance(stmt, ast.Select)
    plan = session.plan(stmt, text=sql)
    (scan,) = plan.scans
    planned = [r.render() for r in scan.fetch.requests]
    assert planned, "every one of these queries sends a request"
    sent.clear()
    session.execute(sql)
    data = [s for s in sent if "/template/" not in s and "/oauth/token" not in s]
    assert set(planned) <= set(data), f"planned but not sent: {set(planned) - set(data)}"
    if scan.fetch.mode in (Mode.GET, Mode.COUNT):
        assert sorted(data) == sorted(planned)
    else:  # a later page moves the offset or follows a next link: the same endpoint as a planned request
        endpoints = {p.split("\n")[0].split("?")[0].split(" ")[1] for p in planned}
        for d in data:  # (a next link is absolute: it carries the connection's base path too)
            assert any(d.split("\n")[0].split("?")[0].endswith(e) for e in endpoints), d


def test_azavista_counts_the_ids_listed(sandbox: SandboxServer, make_session: Callable[..., Session]) -> None:
    """Azavista reads by id when at most 50 ids are *listed* (as before the kit: 50 distinct ids
    listed 60 times is one search); a repeated id is read once."""
    session = make_session()
    ids = [f"6{i:023x}" for i in range(50)]
    listed = ", ".join(f"'{x}'" for x in ids + ids[:10])
    text = session.explain(f"SELECT id FROM azavista.events WHERE id IN ({listed})")
    assert "POST /3.0/event/search" in text and "GET /3.0/event/" not in text
    text = session.explain(f"SELECT id FROM azavista.events WHERE id IN ({', '.join(repr(x) for x in ids[:3] * 2)})")
    assert text.count("GET /3.0/event/") == 3
