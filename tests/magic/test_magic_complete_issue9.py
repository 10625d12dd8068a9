"""%crmql completion and issue 9 point 19: table names after FROM come from what each connector
declares, with no request to the vendor (an Atlas template loads only for its columns)."""

from __future__ import annotations

from typing import Any

from test_magic_complete import texts


def test_tables_after_from_send_no_request(ip: Any, sandbox: Any) -> None:
    sandbox.reset_log()
    got = texts(ip, "%crmql SELECT * FROM atl")
    assert got == ["atlas.companies", "atlas.contacts", "atlas.links", "atlas.sales"]
    # before: the three Atlas template requests (and their token request) on the first FROM completion
    assert sandbox.request_log == []
    # the columns of one Atlas table load its template, once it is in scope
    line = '%crmql SELECT "sale-st FROM atlas.sales'
    assert texts(ip, line, line.index("sale-st") + 7) == ['"sale-status"']
    assert len([e for e in sandbox.request_log if "template" in e[1]]) == 1, sandbox.request_log
