"""Issue 9 E, 10, 12, 22: text parameters typed by context and lists from the command line; deep,
huge, BOM-prefixed and non-UTF-8 input; comment stripping in linear time; left() and the hints."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from crmql.surfaces.cli import parse_params
from crmql.errors import QueryError, QuerySyntaxError
from crmql.language.parser import MAX_DEPTH, parse, split_statements
from crmql.sandbox import SandboxServer
from crmql.api.session import Session
from crmql.language.values import ParamText

from cli_support import run_crmql_in_process


@pytest.fixture
def session(sandbox: SandboxServer, make_session: Callable[..., Session]) -> Session:
    return make_session()


def _count(session: Session, where: str, params: dict | None = None) -> int:
    return int(session.execute(f"SELECT COUNT(*) FROM azavista.events WHERE {where}", params).frame.iloc[0, 0])


# ---- E: --param values take the type of what they meet ----------------------------------------------

def test_e_parse_params_repeats_make_a_list() -> None:
    params = parse_params(["n=499", "c=NL", "c=DE", "c=BE", "s=a,b"])
    assert params == {"n": "499", "c": ["NL", "DE", "BE"], "s": "a,b"}
    assert isinstance(params["n"], ParamText) and all(isinstance(v, ParamText) for v in params["c"])


def test_e_text_parameters_are_typed_by_context(session: Session) -> None:
    text = parse_params(["n=499", "c=NL", "c=DE", "t=2025-03-01", "k=3"])
    assert _count(session, "capacity > :n + 1", text) == _count(session, "capacity > 500")  # was a DuckDB error
    assert _count(session, "country IN :c", text) == _count(session, "country IN ('NL', 'DE')") > 0
    assert _count(session, "start > :t - INTERVAL '1 day'", text) == _count(session, "start > TIMESTAMP '2025-02-28'")
    assert _count(session, "-:n < -capacity", text) == _count(session, "capacity < 499")
    assert _count(session, ":n > 10", text) == 2400  # text met a number literal: 499 > 10, not '499' > '10'
    names = session.query("SELECT left(name, :k) AS l, name FROM azavista.events LIMIT 3", text)
    assert all(a == b[:3] for a, b in zip(names["l"], names["name"]))


def test_e_python_values_keep_their_types(session: Session) -> None:
    assert _count(session, "capacity > :n", {"n": 499}) == _count(session, "capacity > 499")
    assert _count(session, ":s = '499'", {"s": "499"}) == 2400  # a str stays a string
    assert _count(session, ":s = '0499'", {"s": "499"}) == 0  # (as a number it would equal 0499)


@pytest.mark.parametrize("where, value, message", [
    ("capacity > :n + 1", "abc", "parameter :n is 'abc', which is not a number (in + arithmetic)"),
    ("capacity > :n", "abc", "parameter :n is 'abc', which is not a number (capacity is integer)"),
    ("start > :n", "tomorrow", "parameter :n is 'tomorrow', which is not a timestamp (start is timestamp)"),
])
def test_e_text_that_cannot_take_the_type_is_located(session: Session, where: str, value: str, message: str) -> None:
    sql = f"SELECT COUNT(*) FROM azavista.events WHERE {where}"
    with pytest.raises(QueryError) as err:
        session.execute(sql, parse_params([f"n={value}"]))
    assert message in str(err.value)
    assert err.value.column == sql.index(":n") + 1 and err.value.width == 2


def test_e_a_repeated_param_used_as_a_value_says_so(session: Session) -> None:
    with pytest.raises(QueryError) as err:
        _count(session, "country = :c", parse_params(["c=NL", "c=DE"]))
    assert "is a list" in str(err.value) and "more than once" in str(err.value)


def test_e_cli(cli_env: dict[str, str], tmp_path: Path, sandbox: SandboxServer, write_config: Callable[..., Path]) -> None:
    config = write_config(tmp_path / "crmql.toml", sandbox.url)
    run = run_crmql_in_process(["--config", str(config), "--format", "csv", "-e",
                                "SELECT COUNT(*) AS n FROM azavista.events WHERE capacity > :n + 1 AND country IN :c",
                                "--param", "n=499", "--param", "c=NL", "--param", "c=DE"], env=cli_env, cwd=tmp_path)
    assert run.returncode == 0, str(run)
    with Session(str(config)) as s:
        want = s.query("SELECT COUNT(*) AS n FROM azavista.events WHERE capacity > 500 AND country IN ('NL', 'DE')")
    assert run.stdout.split() == ["n", str(int(want["n"][0]))]


# ---- 10: deep, huge and badly encoded input ------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT a FROM x.y WHERE " + "NOT " * 400 + "a = 1",
    "SELECT " + "lower(" * 1000 + "a" + ")" * 1000 + " FROM x.y",
    "SELECT " + "+".join(["1"] * 3000) + " FROM x.y",
    "SELECT a FROM x.y WHERE " + "(a = 1 OR " * 300 + "a = 2" + ")" * 300,
])
def test_10_deep_nesting_is_a_located_syntax_error(sql: str) -> None:
    """Before: maximum recursion depth exceeded (an internal error)."""
    with pytest.raises(QuerySyntaxError) as err:
        parse(sql)
    assert f"nested more than {MAX_DEPTH} levels" in str(err.value)
    assert err.value.line == 1 and 1 < err.value.column <= len(sql)


def test_10_nesting_up_to_the_limit_runs_everywhere(session: Session) -> None:
    """Every pass after the parser (bind, normalize, pushdown, local SQL, DuckDB) takes the deepest
    statement the parser lets through."""
    d = MAX_DEPTH - 2
    for sql in ("SELECT id FROM azavista.events WHERE " + "NOT " * d + "capacity = 1 LIMIT 1",
                "SELECT " + "lower(" * (d - 1) + "name" + ")" * (d - 1) + " AS x FROM azavista.events WHERE id = 'x'",
                "SELECT id FROM azavista.events WHERE capacity = " + "+".join(["1"] * d) + " LIMIT 1",
                "SELECT id FROM azavista.events WHERE " + "(capacity = 1 OR (capacity = 2 AND " * (d // 2 - 1)
                + "capacity = 3" + "))" * (d // 2 - 1) + " LIMIT 1"):
        session.execute(sql)
        session.explain(sql)


def test_10_a_deep_tree_built_in_python_is_a_query_error(session: Session) -> None:
    """Trees that do not come from the parser (tools, the Python API's AST) get a QueryError too."""
    from crmql.language import ast
    from crmql.plan.bind import bind

    where: ast.Expr = ast.Compare("=", ast.Column("capacity"), ast.Literal(1, "integer"))
    for _ in range(5000):
        where = ast.Not(where)
    select = ast.replace(parse("SELECT id FROM azavista.events"), where=where)
    with pytest.raises(QueryError, match="nested too deeply"):
        bind(select, session.table)


def test_10_a_bom_is_accepted() -> None:
    assert parse("\ufeffSELECT a FROM x.y") == parse("SELECT a FROM x.y")
    assert split_statements("\ufeff") == []


def test_10_cli_files(cli_env: dict[str, str], tmp_path: Path, sandbox: SandboxServer,
                      write_config: Callable[..., Path]) -> None:
    """``crmql -f`` through its ``main`` in this process (files, stdin), on the served sandbox."""
    config = str(write_config(tmp_path / "crmql.toml", sandbox.url))
    bom = tmp_path / "bom.sql"
    bom.write_bytes(b"\xef\xbb\xbfSHOW TABLES FROM azavista;")
    bad = tmp_path / "bad.sql"
    bad.write_bytes(b"SELECT 1 FROM azavista.events\n WHERE name = '\xff';")
    big = tmp_path / "big.sql"
    with open(big, "wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)  # sparse: 16 MB of NUL bytes, like -f /dev/zero
    runs = {name: run_crmql_in_process(["--config", config, "-f", str(path)], env=cli_env, cwd=tmp_path)
            for name, path in (("bom", bom), ("bad", bad), ("big", big))}
    assert runs["bom"].returncode == 0 and "events" in runs["bom"].stdout, str(runs["bom"])  # was a syntax error at column 1
    assert runs["bad"].returncode == 2 and "not UTF-8 text: byte 0xff at line 2, byte 16" in runs["bad"].stderr, str(runs["bad"])
    assert runs["big"].returncode == 2 and "larger than 16 MB" in runs["big"].stderr, str(runs["big"])
    stdin = run_crmql_in_process(["--config", config, "-f", "-"], env=cli_env, cwd=tmp_path,
                                 stdin="\ufeffSHOW TABLES FROM azavista;")
    assert stdin.returncode == 0 and "events" in stdin.stdout, str(stdin)
    for r in (*runs.values(), stdin):
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_10_statement_size_is_bounded() -> None:
    with pytest.raises(QuerySyntaxError) as err:
        parse("SELECT a FROM x.y WHERE a = '" + "x" * (16 * 1024 * 1024) + "'")
    assert "the limit is 16 MB" in str(err.value)


# ---- 12: comments are stripped in linear time; a comment opener inside a string is text -------------

def test_12_comment_openers_in_strings_are_linear() -> None:
    """Before: 6.9 s at 25 KB and over 120 s at 90 KB."""
    sql = "SELECT a FROM x.y WHERE a NOT IN (" + ",".join(["'/*'"] * 18_000) + ")"  # 90 KB
    started = time.process_time()
    assert split_statements(sql) == [sql]
    stmt = parse(sql)
    assert len(stmt.where.items) == 18_000
    assert time.process_time() - started < 15  # CPU time: before, over 120 s


def test_12_comments_still_split_and_blank() -> None:
    # the part between the first and the last ';' is only comments: dropped
    assert split_statements("SELECT '--;/*' FROM x.y; /* a; */ -- b;\n;SHOW TABLES") == \
        ["SELECT '--;/*' FROM x.y", "SHOW TABLES"]
    with pytest.raises(QuerySyntaxError, match="empty statement"):
        parse("/* only; a comment */ -- and more\n ;")


# ---- 22: left() and right(), and the hints -------------------------------------------------------------

def test_22_left_and_right_are_functions(session: Session) -> None:
    """Before: `left(name, 3)` was a syntax error (LEFT is reserved) and the hint's `"left"(name, 3)` too."""
    frame = session.query('SELECT name, left(name, 3) AS a, LEFT(name, 2) AS b, "left"(name, 1) AS c, '
                          "right(name, 2) AS d FROM azavista.events WHERE left(name, 3) = 'API' LIMIT 5")
    assert len(frame) and all(n.startswith("API") for n in frame["name"])
    assert all(a == n[:3] and b == n[:2] and c == n[:1] and d == n[-2:]
               for n, a, b, c, d in zip(frame["name"], frame["a"], frame["b"], frame["c"], frame["d"]))
    joined = parse("SELECT left(a, 1) FROM x.y LEFT JOIN x.z ON y.a = z.a")
    assert joined.joins[0].kind == "left"


@pytest.mark.parametrize("sql, hint", [
    ("help", "type \\? for help"),
    ("help;", "type \\? for help"),
    ("quit", "type \\q"),
    ("SELECT left FROM x.y", 'write "left" (double quotes) to use it as a name, or left(text, n) for the function'),
    ("SELECT in(1) FROM x.y", "IN is a reserved word, not a function"),
])
def test_22_hints(sql: str, hint: str) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        parse(sql.rstrip(";") if sql.endswith(";") else sql)
    assert hint in str(err.value)


def test_10_read_script_for_other_surfaces(tmp_path: Path) -> None:
    """The bounded UTF-8 reader the CLI uses, for the shell's \\i and other surfaces."""
    from crmql.surfaces.cli import ScriptReadError, read_script

    (tmp_path / "bom.sql").write_bytes(b"\xef\xbb\xbfSELECT 1")
    assert read_script(tmp_path / "bom.sql") == "SELECT 1"
    (tmp_path / "bad.sql").write_bytes(b"SELECT\n'\xc3'")
    with pytest.raises(ScriptReadError, match="byte 0xc3 at line 2, byte 2") as err:
        read_script(tmp_path / "bad.sql")
    assert err.value.exit_code == 2
    with pytest.raises(ScriptReadError, match="larger than 16 MB"):
        read_script("/dev/zero")


def _depth(node: object, depth: int = 0) -> int:
    """The depth _check_depth measures (recursive: for the small trees of this test)."""
    from crmql.language import ast

    below = [node.query] if isinstance(node, (ast.Explain, ast.Copy)) else []
    if isinstance(node, ast.Select):
        return max(_depth(c, depth) for c in (*node.items, *node.joins, *node.group_by, *node.order_by,
                                                node.where, node.having) if c is not None)
    single, lists = ast.child_fields(node.__class__)
    below += [getattr(node, n) for n in single] + [c for n in lists for c in getattr(node, n) or ()]
    return max([depth] + [_depth(c, depth + 1) for c in below if isinstance(c, ast.Node)])


@pytest.mark.parametrize("n", [1, 5, 40])
def test_10_the_cheap_depth_bound_is_an_upper_bound(n: int) -> None:
    """The parser skips the exact depth check when a few character counts show the text cannot nest
    past the limit; that bound must never be below the real depth."""
    from crmql.language.parser import _depth_bound

    shapes = [
        "SELECT a FROM x.y WHERE " + "NOT " * n + "a = 1",
        "SELECT a FROM x.y WHERE a = " + " + ".join(["1"] * (n + 1)),
        "SELECT a FROM x.y WHERE a = " + "- " * n + "b",
        "SELECT " + "lower(" * n + "a" + ")" * n + " FROM x.y",
        "SELECT a FROM x.y WHERE " + "(a = 1 OR (b = 2 AND " * n + "c = 3" + "))" * n,
        "SELECT a FROM x.y WHERE a || b || c = " + " || ".join(["'x'"] * (n + 1)),
        "SELECT a FROM x.y WHERE a BETWEEN 1 AND 2 AND b NOT IN (1, 2) OR c IS NOT NULL AND d NOT LIKE 'x'",
        "SELECT a, COUNT(*) FROM x.y JOIN x.z ON y.k = z.k WHERE NOT a = 1 GROUP BY a HAVING COUNT(*) > 1 ORDER BY a",
        "EXPLAIN SELECT a * b / c % d FROM x.y WHERE a = -b",
        "COPY (SELECT a FROM x.y WHERE NOT (NOT a = 1)) TO 'f.csv'",
    ]
    for sql in shapes:
        assert _depth_bound(sql) >= _depth(parse(sql)), sql
