"""%crmql / %%crmql in an IPython shell: line and cell, storing results, parameters from the user
namespace (hostile values stay values), options, errors as UsageError, display and configuration."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from magic_helpers import run

from crmql.surfaces.magic import ResultView, TextResult, parse_options

SALES = "SELECT name, start, event_type FROM azavista.events WHERE event_type = 'sales'"


@pytest.fixture
def expected(make_session: Any) -> Any:
    session = make_session()
    return lambda sql, params=None: session.query(sql, params)


def test_line_magic_returns_the_dataframe_itself(ip: Any, expected: Any) -> None:
    value = run(ip, f"%crmql {SALES}")
    assert type(value) is pd.DataFrame
    pd.testing.assert_frame_equal(value, expected(SALES))
    run(ip, f"df = %crmql {SALES}")
    assert type(ip.user_ns["df"]) is pd.DataFrame
    pd.testing.assert_frame_equal(ip.user_ns["df"], expected(SALES))


def test_cell_magic_returns_the_dataframe(ip: Any, expected: Any) -> None:
    value = run(ip, "%%crmql\nSELECT name, start, event_type\nFROM azavista.events\n-- only sales\nWHERE event_type = 'sales'")
    pd.testing.assert_frame_equal(value, expected(SALES))


@pytest.mark.parametrize("cell", [
    "%%crmql found <<\n" + SALES,
    "%%crmql -o found\n" + SALES,
    "%%crmql --out=found\n" + SALES,
    "%crmql found << " + SALES,
    "%crmql -o found " + SALES,
])
def test_store_the_result(ip: Any, expected: Any, cell: str) -> None:
    value = run(ip, cell)
    assert type(ip.user_ns["found"]) is pd.DataFrame
    assert ip.user_ns["found"] is value
    pd.testing.assert_frame_equal(ip.user_ns["found"], expected(SALES))


def test_several_statements_in_a_cell_return_the_last(ip: Any) -> None:
    value = run(ip, "%%crmql\nSELECT name FROM azavista.events LIMIT 1;\nSELECT COUNT(*) AS n FROM azavista.organizations;")
    assert value["n"].tolist() == [500]


def test_parameters_come_from_the_namespace(ip: Any, expected: Any) -> None:
    ip.user_ns.update(kind="sales", kinds=("sales", "marketing"), arr=np.array(["sales"]), n=np.int64(3),
                      since=pd.Timestamp("2025-01-01", tz="UTC"))
    got = run(ip, "%crmql SELECT name, start, event_type FROM azavista.events WHERE event_type = :kind")
    pd.testing.assert_frame_equal(got, expected(SALES))
    got = run(ip, "%crmql SELECT name FROM azavista.events WHERE event_type IN :kinds AND start >= :since")
    want = expected("SELECT name FROM azavista.events WHERE event_type IN ('sales', 'marketing') "
                    "AND start >= TIMESTAMP '2025-01-01'")
    pd.testing.assert_frame_equal(got, want)
    got = run(ip, "%crmql SELECT name FROM azavista.events WHERE event_type IN :arr LIMIT :n")
    assert len(got) == 3


@pytest.mark.parametrize("evil", [
    "x' OR '1'='1",
    "'; DROP TABLE events; --",
    "sales' --",
    '" OR ""="',
    "%",
    "{kind}",
    "Café-style ☕ \n\r\t, \"quoted\"",
])
def test_hostile_parameter_values_are_only_values(ip: Any, evil: str) -> None:
    ip.user_ns["evil"] = evil
    got = run(ip, "%crmql SELECT name FROM azavista.events WHERE event_type = :evil")
    assert len(got) == 0
    got = run(ip, "%crmql SELECT :evil AS note, name FROM azavista.events LIMIT 2")
    assert got["note"].tolist() == [evil, evil]


def test_a_real_value_with_special_characters_matches(ip: Any, expected: Any) -> None:
    name = expected("SELECT name FROM azavista.events WHERE name LIKE '%Café%' LIMIT 1")["name"][0]
    ip.user_ns["name"] = name
    got = run(ip, "%crmql SELECT name FROM azavista.events WHERE name = :name")
    assert set(got["name"]) == {name}


def test_no_variable_expansion_in_the_statement(ip: Any) -> None:
    ip.user_ns["kind"] = "sales"
    assert len(run(ip, "%crmql SELECT name FROM azavista.events WHERE event_type = '$kind'")) == 0
    assert len(run(ip, "%crmql SELECT name FROM azavista.events WHERE event_type = '{kind}'")) == 0


def test_missing_parameter_is_a_usage_error(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.user_ns.pop("nope", None)
    result = ip.run_cell("%crmql SELECT name FROM azavista.events WHERE event_type = :nope")
    assert type(result.error_in_exec) is UsageError
    assert "no value for parameter :nope" in str(result.error_in_exec)
    assert "nope = ..." in str(result.error_in_exec)
    err = capsys.readouterr().err
    assert "UsageError: no value for parameter :nope" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("cell, words", [
    ("%crmql SELECT name FROM events", ["syntax error", "^", "azavista.events"]),
    ("%crmql SELECT nme FROM azavista.events", ["nme", "did you mean"]),
    ("%crmql SELECT name FROM azavista.event", ["unknown table", "azavista.events"]),
    ("%crmql SELECT name FROM nowhere.events", ["unknown connection"]),
    ("%crmql --bogus SELECT 1", ["unknown option --bogus"]),
    ("%crmql --limit many SELECT name FROM azavista.events", ["--limit needs a number"]),
    ("%crmql", ["no statement"]),
    ("%%crmql\n-- nothing here\n", ["no statement"]),
    ("%crmql --explain SHOW TABLES", ["--explain needs a SELECT"]),
    ("%crmql --config /nonexistent/crmql.toml SELECT name FROM azavista.events", ["does not exist"]),
    ("%crmql --format pdf SELECT name FROM azavista.events", ["--format must be one of"]),
    ("%crmql COPY (SELECT name FROM azavista.events) TO 'x.csv' WITH (FORMAT parquet, SAFE true)", ["CSV only"]),
])
def test_errors_are_one_readable_usage_error(ip: Any, capsys: pytest.CaptureFixture[str], cell: str,
                                             words: list[str]) -> None:
    result = ip.run_cell(cell)
    assert type(result.error_in_exec) is UsageError, result.error_in_exec
    message = str(result.error_in_exec)
    for word in words:
        assert word in message
    err = capsys.readouterr().err
    assert "Traceback" not in err and "UsageError:" in err


def test_explain_and_analyze(ip: Any, sandbox: Any) -> None:
    sandbox.reset_log()
    plan = run(ip, "%crmql --explain SELECT name FROM azavista.events WHERE event_type = 'sales'")
    assert isinstance(plan, TextResult)
    assert "POST /3.0/event/search" in plan.text and "Rows returned" not in plan.text
    searched = [e for e in sandbox.request_log if e[1].endswith("/search")]
    assert len(searched) <= 1  # at most the 1-row probe: nothing was fetched
    analyzed = run(ip, "%crmql --analyze SELECT name FROM azavista.events WHERE event_type = 'sales'")
    assert isinstance(analyzed, TextResult)
    assert "Rows returned: 364" in analyzed.text
    assert repr(analyzed) == analyzed.text and "<pre" in analyzed._repr_html_()
    same = run(ip, "%crmql EXPLAIN SELECT name FROM azavista.events WHERE event_type = 'sales'")
    assert same.text.splitlines()[0] == plan.text.splitlines()[0]


def test_display_caption_and_limit(ip: Any) -> None:
    df = run(ip, f"%crmql {SALES}")
    plain = ip.display_formatter.formatters["text/plain"](df)
    html = ip.display_formatter.formatters["text/html"](df)
    caption = plain.splitlines()[-1]
    assert re.fullmatch(r"364 rows · \d+ requests · [\d.]+ s · showing 10 of 364 rows", caption), caption
    assert html.count("<tr") == 11  # header + 10 rows
    assert "364 rows · " in html and "showing 10 of 364 rows" in html
    assert len(df) == 364

    df3 = run(ip, f"%crmql --limit 3 {SALES}")
    assert "showing 3 of 364 rows" in ip.display_formatter.formatters["text/plain"](df3)
    assert len(df3) == 364
    every = run(ip, f"%crmql --limit 0 {SALES}")
    text = ip.display_formatter.formatters["text/plain"](every)
    assert "showing" not in text and len(text.splitlines()) == 364 + 2

    small = run(ip, "%crmql SELECT name FROM azavista.events LIMIT 1")
    assert ip.display_formatter.formatters["text/plain"](small).splitlines()[-1].startswith("1 row · 1 request · ")

    # a frame derived from the result is an ordinary DataFrame again
    head = df.head(2)
    assert ip.display_formatter.formatters["text/plain"](head) == repr(head)
    assert "crmql-caption" not in ip.display_formatter.formatters["text/html"](head)


def test_hostile_cells_are_escaped_in_html(ip: Any) -> None:
    ip.user_ns["evil"] = "<script>alert(1)</script>"
    df = run(ip, "%crmql SELECT :evil AS note FROM azavista.events LIMIT 1")
    html = ip.display_formatter.formatters["text/html"](df)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_result_view_standalone() -> None:
    frame = pd.DataFrame({"n": range(4213)})
    view = ResultView(frame, requests=86, elapsed_ms=1900, limit=10)
    assert view.caption == "4,213 rows · 86 requests · 1.9 s · showing 10 of 4,213 rows"
    assert "<table" in view._repr_html_() and view.caption in repr(view)
    assert ResultView(frame.head(1), requests=1, elapsed_ms=50).caption == "1 row · 1 request · 0.05 s"


def test_config_magic(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_line_magic("config", "Crmql.display_limit = 4")
    df = run(ip, f"%crmql {SALES}")
    assert "showing 4 of 364 rows" in ip.display_formatter.formatters["text/plain"](df)
    ip.run_line_magic("config", "Crmql.format = 'table'")
    text = ip.display_formatter.formatters["text/plain"](df)
    assert text.splitlines()[1].startswith("------") and " | " in text.splitlines()[0]
    assert "<pre>" in ip.display_formatter.formatters["text/html"](df)
    md = run(ip, f"%crmql --format markdown {SALES}")
    assert ip.display_formatter.formatters["text/plain"](md).startswith("| name | start | event_type |")
    assert ip.run_line_magic("config", "Crmql.display_limit") == 4
    ip.run_line_magic("config", "Crmql")
    assert "display_limit" in capsys.readouterr().out
    ip.run_line_magic("config", "Crmql.format = 'pdf'")  # %config reports the error and keeps the value
    assert ip.run_line_magic("config", "Crmql.format") == "table"


def test_config_option_uses_another_file(ip: Any, tmp_path: Any, sandbox: Any, write_config: Any) -> None:
    other = write_config(tmp_path / "other.toml", sandbox.url)
    got = run(ip, f"%crmql --config {other} SELECT COUNT(*) AS n FROM azavista.organizations")
    assert got["n"].tolist() == [500]
    got = run(ip, f"%crmql --config='{other}' SELECT COUNT(*) AS n FROM azavista.organizations")
    assert got["n"].tolist() == [500]


def test_show_tables_describe_and_copy(ip: Any, tmp_path: Any) -> None:
    tables = run(ip, "%crmql SHOW TABLES")
    assert "events" in set(tables["table"])
    described = run(ip, "%crmql DESCRIBE azavista.events")
    assert "start" in set(described["column"])
    done = run(ip, "%crmql COPY (SELECT name FROM azavista.events WHERE event_type = 'sales') TO 'sales.csv'")
    assert isinstance(done, TextResult) and done.text.startswith("COPY 364 rows to sales.csv")
    assert (tmp_path / "sales.csv").read_bytes().startswith(b"name\r\n")


def test_unload_removes_the_magic(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "crmql")
    result = ip.run_cell("%crmql SHOW TABLES")
    assert result.error_in_exec is not None
    df = pd.DataFrame({"a": [1]})
    assert ip.display_formatter.formatters["text/plain"](df) == repr(df)
    ip.run_line_magic("load_ext", "crmql")


def test_parse_options() -> None:
    opts, rest = parse_options("--explain --limit=5 -c 'my config.toml' df << SELECT 1")
    assert (opts.explain, opts.limit, opts.config, opts.out, rest) == (True, 5, "my config.toml", "df", "SELECT 1")
    opts, rest = parse_options("-- a comment\nSELECT 1")
    assert rest == "-- a comment\nSELECT 1" and opts.out is None
    with pytest.raises(UsageError):
        parse_options("-o 1bad SELECT 1")
