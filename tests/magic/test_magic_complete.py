"""Completion inside %crmql lines and %%crmql cells, through IPython's own completer APIs."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from IPython.core.completer import provisionalcompleter


def completions(ip: Any, text: str, cursor: int | None = None) -> list[str]:
    """What a Jupyter frontend gets (``Completer.completions``), as the resulting texts."""
    offset = len(text) if cursor is None else cursor
    with provisionalcompleter():
        found = list(ip.Completer.completions(text, offset))
    return [text[: c.start] + c.text for c in found]


def texts(ip: Any, text: str, cursor: int | None = None) -> list[str]:
    offset = len(text) if cursor is None else cursor
    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, offset)]


def legacy(ip: Any, line: str, cursor: int) -> tuple[str, list[str]]:
    """The older ``InteractiveShell.complete`` API (terminal IPython, some kernels); IPython warns it is pending deprecation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return ip.complete("", line, cursor)


def test_tables_after_from_in_a_line(ip: Any) -> None:
    assert texts(ip, "%crmql SELECT * FROM az") == ["azavista.contacts", "azavista.events", "azavista.organizations"]
    assert texts(ip, "%crmql SELECT * FROM azavista.ev") == ["azavista.events"]
    line = "%crmql SELECT * FROM azavista.con"
    assert legacy(ip, line, len(line)) == ("azavista.con", ["azavista.contacts"])
    assert completions(ip, "df = %crmql SELECT * FROM azavista.org") == ["df = %crmql SELECT * FROM azavista.organizations"]


def test_every_table_after_from(ip: Any) -> None:
    got = texts(ip, "%crmql SELECT * FROM ")
    assert {"azavista.events", "azavista.contacts", "azavista.organizations"} <= set(got)
    assert all("." in t for t in got)


def test_tables_after_join_in_a_cell(ip: Any) -> None:
    cell = "%%crmql\nSELECT *\nFROM azavista.contacts c\nJOIN azavista.org"
    assert texts(ip, cell) == ["azavista.organizations"]


def test_columns_of_the_table_in_scope(ip: Any) -> None:
    line = "%crmql SELECT na FROM azavista.events"
    assert texts(ip, line, line.index("na") + 2) == ["name"]
    line = "x = %crmql SELECT first FROM azavista.contacts"
    assert legacy(ip, line, line.index("first") + 5) == ("first", ["first_name"])
    cell = "%%crmql df <<\nSELECT name\nFROM azavista.events\nWHERE event_t"
    assert texts(ip, cell) == ["event_type"]


def test_columns_after_an_alias_in_a_cell(ip: Any) -> None:
    cell = "%%crmql\nSELECT e.st, o.na\nFROM azavista.events AS e\nJOIN azavista.organizations o ON o.id = e.id"
    assert texts(ip, cell, cell.index("e.st") + 4) == ["e.start", "e.status"]
    assert texts(ip, cell, cell.index("o.na") + 4) == ["o.name"]


def test_columns_of_two_tables(ip: Any) -> None:
    cell = "%%crmql\nSELECT emp FROM azavista.contacts c JOIN azavista.organizations o ON c.organization_id = o.id"
    assert texts(ip, cell, cell.index("emp") + 3) == ["employee_count"]
    got = texts(ip, cell, cell.index("emp"))
    assert {"first_name", "employee_count", "industry"} <= set(got)


def test_names_spelled_like_keywords_complete_quoted(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import crmql.surfaces.magic as magic

    monkeypatch.setattr(magic.Completer, "columns", lambda self, c, t: ["date", "contact-email", "end"])
    line = "%crmql SELECT  FROM azavista.events"
    assert sorted(texts(ip, line, line.index("  ") + 1)) == ['"contact-email"', '"date"', "end"]


def test_options_complete(ip: Any) -> None:
    assert texts(ip, "%crmql --ex") == ["--explain"]
    assert texts(ip, "%crmql --limit 5 --an") == ["--analyze"]
    assert texts(ip, "%%crmql --con") == ["--config"]


@pytest.mark.parametrize("code", ["x = az", "print('FROM az", "%%time\nSELECT * FROM az"])
def test_no_crmql_completions_outside_the_magic(ip: Any, code: str) -> None:
    assert not any(t.startswith("azavista") for t in texts(ip, code))


def test_completion_survives_a_broken_catalog(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import crmql.surfaces.magic as magic

    def boom(self: Any) -> Any:
        raise RuntimeError("catalog down")

    monkeypatch.setattr(magic.Completer, "tables", boom)
    assert not any(t.startswith("azavista") for t in texts(ip, "%crmql SELECT * FROM az"))
