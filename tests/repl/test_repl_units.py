"""Unit tests of the shell's parts that need no terminal: the grammar-derived keywords and the
highlighter, the Enter rule, output rendering, the progress line, [repl] settings, commands."""

from __future__ import annotations

import doctest
import io
import subprocess
import sys

import pandas as pd
import pytest
from lark.lexer import PatternStr

import crmql.surfaces.repl.app
import crmql.surfaces.repl.commands
import crmql.surfaces.repl.completer
import crmql.surfaces.repl.lexer
import crmql.surfaces.repl.output
from crmql.api.config import sandbox_config
from crmql.language.parser import _parser
from crmql.surfaces.repl.app import ReplSettings, Shell
from crmql.language.names import grammar_keywords
from crmql.surfaces.completion.tokens import scan
from crmql.surfaces.repl.lexer import CrmqlLexer, statement_complete
from crmql.surfaces.repl.output import Progress, footer, page, render_expanded, render_table, timing_line
from crmql.stats import QueryStats


@pytest.mark.parametrize("module", [crmql.surfaces.repl.app, crmql.surfaces.repl.commands, crmql.surfaces.repl.completer,
                                    crmql.surfaces.repl.lexer, crmql.surfaces.repl.output])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.failed == 0


def test_keywords_are_exactly_the_parsers_keyword_terminals():
    from_lark = {t.name: t.pattern.value.upper() for t in _parser().terminals
                 if isinstance(t.pattern, PatternStr) and "i" in t.pattern.flags and t.pattern.value.isalpha()}
    assert grammar_keywords() == from_lark
    assert {"SELECT", "ILIKE", "EXPLAIN", "INTERVAL"} <= set(from_lark.values())


def test_highlighter_tokens():
    from pygments.token import Comment, Keyword, Name, Number, String

    toks = [(t, v) for t, v in CrmqlLexer().get_tokens(
        "select \"contact-email\", lower(name) from a.b where n >= 1.5 and s = 'x' -- c\n") if v.strip()]
    kinds = dict((v, t) for t, v in toks)
    assert kinds["select"] in Keyword and kinds["where"] in Keyword
    assert kinds['"contact-email"'] in Name.Variable
    assert kinds["lower"] in Name.Function
    assert kinds["1.5"] in Number and kinds["'x'"] in String
    assert kinds["-- c"] in Comment
    assert list(CrmqlLexer().get_tokens("\\dt azavista"))[0][0] in Keyword.Pseudo


@pytest.mark.parametrize("text, done", [
    ("", True),
    ("SELECT 1", False),
    ("SELECT 1;", True),
    ("SELECT 1;  ", True),
    ("SELECT ';'", False),
    ("SELECT 'it''s';", True),
    ("SELECT 1 -- done;", False),
    ("SELECT 1 /* ; */", False),
    ("SELECT 1\n;", True),
    ("\\dt", True),
    ("SELECT 1\n\\e", True),
    ('SELECT "a;b"', False),
])
def test_enter_runs_only_complete_statements(text, done):
    assert statement_complete(text) is done


def test_scan_marks_open_tokens():
    toks = scan("SELECT 'abc")
    assert toks[-1].kind == "string" and not toks[-1].closed
    assert scan('x "a""b"')[-1].ident == 'a"b'


def test_table_render_nulls_numbers_and_cut():
    frame = pd.DataFrame({"name": ["a" * 100, None, "NULL"], "n": [1, None, 333]})
    text = render_table(frame, max_cell=20, color=True)
    lines = text.split("\n")
    assert "a" * 19 + "…" in lines[2]
    assert "\x1b[2;3mNULL\x1b[0m" in lines[3]  # a real NULL is styled...
    assert lines[4].startswith(" NULL ")       # ...the text 'NULL' is not
    assert lines[2].endswith("   1.0") or lines[2].endswith("1.0")
    assert lines[-1] == "(3 rows)"
    cut = render_table(frame, max_rows=2, color=False)
    assert cut.split("\n")[-1] == "(3 rows; showing first 2 of 3)"
    assert footer(1, 1) == "(1 row)"


def test_numbers_are_right_aligned():
    text = render_table(pd.DataFrame({"n": [1, 22, 333]}), color=False)
    assert text.split("\n")[2:5] == ["   1", "  22", " 333"]


def test_expanded_display():
    frame = pd.DataFrame({"name": ["x", "y"], "price": [1.5, None]})
    text = render_expanded(frame, color=False)
    assert text.split("\n") == ["-[ RECORD 1 ]-", "name  | x", "price | 1.5", "-[ RECORD 2 ]-",
                                "name  | y", "price | NULL", "(2 rows)"]


def test_timing_line():
    st = QueryStats(requests=3, pages=2, rows_fetched=100, retries=1, elapsed_ms=1234)
    assert timing_line(st) == "Time: 1.234 s · 3 requests · 2 pages · 100 rows fetched · 1 retry"


def test_page_writes_directly_when_not_a_terminal():
    out = io.StringIO()
    page("x\n" * 500, "definitely-not-a-pager", out)
    assert out.getvalue() == "x\n" * 500


def test_progress_line():
    st = QueryStats()
    st.add(pages=3, rows_fetched=150, retries=1)
    st.set_total_pages(10)
    p = Progress(st, io.StringIO(), delay=0.0, interval=0.01)
    assert "3/10 pages · 150 rows · 1 retry" in p.line()
    p.start()
    st.on_progress = p.notify
    st.add(pages=1)
    import time
    deadline = time.monotonic() + 5
    while "4/10 pages" not in p.stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    p.stop()
    written = p.stream.getvalue()
    assert "4/10 pages" in written and written.endswith("\r\x1b[K")


def test_progress_stays_quiet_for_fast_queries():
    p = Progress(QueryStats(), io.StringIO(), delay=0.5).start()
    p.stop()
    assert p.stream.getvalue() == ""


def test_repl_settings_from_config():
    s = ReplSettings.from_config({"format": "CSV", "expanded": "auto", "pager": False, "timing": True,
                                  "key_bindings": "vi", "multi_line": False, "max_rows": 10}, env={})
    assert (s.format, s.expanded, s.pager, s.timing, s.key_bindings, s.multi_line, s.max_rows) == \
        ("csv", "auto", None, True, "vi", False, 10)
    assert ReplSettings.from_config({}, env={"PAGER": "more"}).pager == "more"
    assert ReplSettings.from_config({}, env={}).pager == "less -SRXF"
    assert ReplSettings.from_config({"pager": "less -S"}, env={}).pager == "less -S"
    bad = ReplSettings.from_config({"format": "xml", "keys": "nano", "colour": 1}, env={})
    assert bad.format == "table" and len(bad.warnings) == 3


class _Out(io.StringIO):
    def isatty(self) -> bool:
        return False


def _shell(**kw) -> Shell:
    config = sandbox_config("http://127.0.0.1:9")  # never contacted by these tests
    return Shell(config, settings=ReplSettings.from_config({}, env={}), out=_Out(), err=_Out(), **kw)


def test_commands_change_settings():
    shell = _shell()
    for line in ("\\x", "\\timing on", "\\format csv", "\\xauto"):
        assert shell.run_command(line)
    assert (shell.settings.expanded, shell.settings.timing, shell.settings.format) == ("auto", True, "csv")
    assert shell.run_command("\\format xml")  # an error, and the shell goes on
    assert "error: \\format takes one of" in shell.err.getvalue()
    assert not shell.run_command("\\q")


def test_unknown_command_suggests():
    shell = _shell()
    assert shell.run_command("\\formt csv")
    assert "unknown command \\formt" in shell.err.getvalue() and "\\format" in shell.err.getvalue()


def test_help_lists_every_command():
    shell = _shell()
    shell.run_command("\\?")
    for name in crmql.surfaces.repl.commands.COMMANDS:
        assert name in shell.out.getvalue()


def test_conninfo_redacts_credentials():
    shell = _shell()
    shell.run_command("\\conninfo")
    text = shell.out.getvalue()
    assert "sandbox-azavista-secret" not in text and "client_secret" in text and "***" in text


def test_output_to_a_file_and_back(tmp_path):
    shell = _shell()
    target = tmp_path / "out.txt"
    shell.run_command(f"\\o {target}")
    shell.show_frame(pd.DataFrame({"a": [1, None]}))
    shell.run_command("\\o")
    shell.show_frame(pd.DataFrame({"b": [2]}))
    written = target.read_text()
    assert written.split("\n")[:4] == [" a", "------", "  1.0", " NULL"] and "\x1b" not in written
    assert " b" in shell.out.getvalue()


def test_edit_text_runs_the_editor(tmp_path):
    script = tmp_path / "ed.py"
    script.write_text("import sys\nopen(sys.argv[1], 'a').write('LIMIT 3;\\n')\n")
    edited = crmql.surfaces.repl.commands.edit_text("SELECT 1", editor=f"{sys.executable} {script}")
    assert edited == "SELECT 1\nLIMIT 3;"


def test_repl_import_is_light():
    code = ("import sys, crmql.surfaces.cli, crmql.surfaces.repl.app, crmql.surfaces.repl.completer, crmql.surfaces.repl.lexer; "
            "bad = [m for m in ('pandas', 'duckdb', 'pyarrow', 'lark', 'numpy') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_destructive_statements_ask_first(monkeypatch):
    import crmql.surfaces.repl.app as app
    from crmql.language.names import keywords

    assert not app.is_destructive("SELECT 1")
    # the grammar has no write statement yet; pretend SELECT were one
    monkeypatch.setattr(app, "WRITE_KEYWORDS", frozenset({"SELECT"}))
    assert "SELECT" in keywords() and app.is_destructive("select * from a.b")
    shell = _shell(input=io.StringIO("n\n"))
    ran = []
    monkeypatch.setattr(shell, "session", lambda: ran.append(1))
    shell.run_sql("SELECT * FROM azavista.events")
    assert "changes data" in shell.out.getvalue() and "Not run." in shell.out.getvalue() and not ran
