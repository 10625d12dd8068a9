"""``%crmql`` and ``%%crmql``: crmql in IPython and Jupyter.

    %load_ext crmql
    %crmql SELECT name, start FROM azavista.events WHERE event_type = :kind LIMIT 20
    df = %crmql SELECT * FROM azavista.contacts
    %%crmql contacts <<
    SELECT first_name, last_name, email FROM azavista.contacts WHERE country = :country

Options, before the statement (``%%crmql``: on the magic's own line):

    --explain          show the plan instead of running the query
    --analyze          run the query and show the plan with what it cost (EXPLAIN ANALYZE)
    --limit N, -l N    show at most N rows (display only; the DataFrame keeps every row)
    --config PATH      use this config file instead of the default one
    --format FMT       display as dataframe (default), table, markdown, csv, json or jsonl
    -o NAME, NAME <<   also store the result in the variable NAME

``:name`` is bound to the Python variable ``name`` as a value (never pasted into the text).
Errors are IPython ``UsageError`` s: one message, no traceback. Results show as the DataFrame
plus a caption (``4,213 rows · 86 requests · 1.9 s``, and ``showing 10 of 4,213 rows`` when the
display is cut); scans longer than half a second show a progress bar; interrupting the kernel
cancels the scan. Tables complete after FROM and JOIN, columns of the tables in scope elsewhere.

``%config Crmql.display_limit = 20`` (0: every row), ``%config Crmql.format = 'table'``,
``%config Crmql.config_file = 'crmql.toml'``, ``%config Crmql.progress = False``.

>>> parse_options("--limit 5 -o df SELECT 1 FROM a.b")
(Options(explain=False, analyze=False, limit=5, config=None, format=None, out='df'), 'SELECT 1 FROM a.b')
>>> parse_options("df << SELECT x FROM a.b")[0].out
'df'
"""

from __future__ import annotations

import dataclasses
import functools
import html
import os
import re
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Float, Int, Unicode

from . import ast, stats
from .errors import CrmqlError
from .session import Result, Session

__all__ = ["Crmql", "Options", "ResultView", "TextResult", "load_ipython_extension", "parse_options",
           "unload_ipython_extension"]

DISPLAY_FORMATS = ("dataframe", "table", "markdown", "csv", "json", "jsonl")

USAGE = """\
%crmql [options] [NAME <<] STATEMENT        %%crmql [options] [NAME <<]  (the statement below)
  --explain          show the plan instead of running the query
  --analyze          run the query and show the plan with what it cost
  --limit N, -l N    show at most N rows (the returned DataFrame keeps every row)
  --config PATH      config file for this statement (default: Crmql.config_file, then crmql's own lookup)
  --format FMT       display as dataframe, table, markdown, csv, json or jsonl
  -o NAME, NAME <<   also store the result in the variable NAME
:name in the statement is bound to the Python variable `name` (as a value, never as text)."""


# ---- options -------------------------------------------------------------------------------------

@dataclasses.dataclass
class Options:
    explain: bool = False
    analyze: bool = False
    limit: int | None = None
    config: str | None = None
    format: str | None = None
    out: str | None = None


_TOKEN = re.compile(r"""\s*('(?:[^']*)'|"(?:[^"]*)"|\S+)""")
_STORE = re.compile(r"\s*([A-Za-z_]\w*)\s*<<")
_FLAGS = {"--explain": "explain", "--analyze": "analyze"}
_VALUED = {"--limit": "limit", "-l": "limit", "--config": "config", "-c": "config", "--format": "format",
           "-f": "format", "--out": "out", "-o": "out"}


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


def parse_options(text: str) -> tuple[Options, str]:
    """Split the leading options (and ``NAME <<``) off ``text``; returns them and the rest."""
    opts = Options()
    pos = 0
    while True:
        store = _STORE.match(text, pos)
        if store:
            _set_out(opts, store.group(1))
            pos = store.end()
            continue
        m = _TOKEN.match(text, pos)
        if not m or not re.match(r"--?[A-Za-z]", m.group(1)):  # `-- comment` is SQL, not an option
            break
        token = m.group(1)
        name, eq, inline = token.partition("=")
        if name in ("-h", "--help"):
            raise UsageError(USAGE)
        if name in _FLAGS and not eq:
            setattr(opts, _FLAGS[name], True)
            pos = m.end()
            continue
        if name not in _VALUED:
            raise UsageError(f"unknown option {name}\n{USAGE}")
        pos = m.end()
        if eq:
            value = _unquote(inline)
        else:
            v = _TOKEN.match(text, pos)
            if not v:
                raise UsageError(f"{name} needs a value\n{USAGE}")
            value, pos = _unquote(v.group(1)), v.end()
        field = _VALUED[name]
        if field == "limit":
            try:
                opts.limit = int(value)
            except ValueError:
                raise UsageError(f"{name} needs a number of rows, not {value!r}") from None
            if opts.limit < 0:
                raise UsageError(f"{name} needs a number of rows >= 0 (0 shows every row)")
        elif field == "format":
            if value.lower() not in DISPLAY_FORMATS:
                raise UsageError(f"--format must be one of {', '.join(DISPLAY_FORMATS)}, not {value!r}")
            opts.format = value.lower()
        elif field == "out":
            _set_out(opts, value)
        else:
            opts.config = value
    return opts, text[pos:].strip()


def _set_out(opts: Options, name: str) -> None:
    if not name.isidentifier():
        raise UsageError(f"cannot store the result in {name!r}: not a Python variable name")
    opts.out = name


# ---- parameters ----------------------------------------------------------------------------------

def param_names(node: Any) -> list[str]:
    """The ``:name`` parameters of a statement, in order of appearance."""
    names: list[str] = []

    def visit(x: Any) -> None:
        if isinstance(x, ast.Param):
            names.append(x.name)
        elif isinstance(x, ast.Node):
            for f in dataclasses.fields(x):
                visit(getattr(x, f.name))
        elif isinstance(x, (tuple, list)):
            for y in x:
                visit(y)

    visit(node)
    return list(dict.fromkeys(names))


def _value(v: Any) -> Any:
    """A notebook value as a parameter: numpy scalars and arrays, Series, tuples and sets become
    plain Python values and lists."""
    import numpy as np

    if isinstance(v, np.datetime64):
        return pd.Timestamp(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (np.ndarray, pd.Series, pd.Index, tuple, set, frozenset)):
        return [_value(x) for x in (sorted(v, key=str) if isinstance(v, (set, frozenset)) else v)]
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


def bind_from_namespace(statement: Any, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Values for the statement's parameters from ``namespace``; a missing one is a UsageError."""
    params = {}
    for name in param_names(statement):
        if name not in namespace:
            raise UsageError(f"no value for parameter :{name}: there is no Python variable named {name!r}\n"
                             f"  hint: define it first, e.g. {name} = ...")
        params[name] = _value(namespace[name])
    return params


# ---- display -------------------------------------------------------------------------------------

def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _seconds(ms: int) -> str:
    s = ms / 1000
    return f"{s:.2f} s" if s < 1 else f"{s:.1f} s"


@dataclasses.dataclass
class _Shown:
    """How to show one result: its costs, and the display options given with it (None: the
    magics' configuration at display time, so ``%config Crmql.display_limit`` applies to earlier
    results too)."""

    requests: int
    elapsed_ms: int
    limit: int | None
    format: str | None
    defaults: Any = None


class ResultView:
    """A result as the notebook shows it: the first ``limit`` rows and a caption."""

    def __init__(self, frame: pd.DataFrame, *, requests: int = 0, elapsed_ms: int = 0, limit: int = 10,
                 format: str = "dataframe") -> None:
        self.frame = frame
        self.requests = requests
        self.elapsed_ms = elapsed_ms
        self.limit = limit
        self.format = format

    @property
    def cut(self) -> bool:
        return 0 < self.limit < len(self.frame)

    @property
    def shown(self) -> pd.DataFrame:
        return self.frame.head(self.limit) if self.cut else self.frame

    @property
    def caption(self) -> str:
        n = len(self.frame)
        text = f"{_plural(n, 'row')} · {_plural(self.requests, 'request')} · {_seconds(self.elapsed_ms)}"
        if self.cut:
            text += f" · showing {self.limit:,} of {_plural(n, 'row')}"
        return text

    def _text_body(self) -> str:
        from .formats import render

        if self.format == "dataframe":
            with pd.option_context("display.max_rows", max(len(self.shown), 1), "display.min_rows", len(self.shown),
                                   "display.show_dimensions", False):
                return repr(self.shown)
        return render(self.shown, self.format, footer=False).rstrip("\n")

    def _repr_html_(self) -> str:
        caption = f'<p class="crmql-caption" style="color:#666;margin:4px 0">{html.escape(self.caption)}</p>'
        if self.format == "dataframe":
            with pd.option_context("display.max_rows", max(len(self.shown), 1), "display.min_rows", len(self.shown),
                                   "display.show_dimensions", False, "display.notebook_repr_html", True):
                body = self.shown._repr_html_() or html.escape(repr(self.shown))
        else:
            body = f"<pre>{html.escape(self._text_body())}</pre>"
        return f'<div class="crmql-result">{body}{caption}</div>'

    def __repr__(self) -> str:
        return f"{self._text_body()}\n{self.caption}"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


class TextResult:
    """A plan (EXPLAIN) or a statement's summary (COPY), shown as plain text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text)

    def _repr_html_(self) -> str:
        return f'<pre class="crmql-text">{html.escape(self.text)}</pre>'

    def __eq__(self, other: object) -> bool:
        return self.text == (other.text if isinstance(other, TextResult) else other)

    __hash__ = None  # type: ignore[assignment]


class _Registry:
    """The DataFrames the magic returned, with how to show them. Keyed by identity (weakly), so a
    frame derived from one (``df.head()``) shows as a plain DataFrame again."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref[pd.DataFrame], _Shown]] = {}

    def add(self, frame: pd.DataFrame, shown: _Shown) -> None:
        self._items = {k: v for k, v in self._items.items() if v[0]() is not None}
        self._items[id(frame)] = (weakref.ref(frame), shown)

    def view(self, frame: Any) -> ResultView | None:
        item = self._items.get(id(frame))
        if item is None or item[0]() is not frame:
            return None
        s = item[1]
        limit = s.limit if s.limit is not None else getattr(s.defaults, "display_limit", 10)
        fmt = s.format or getattr(s.defaults, "format", "dataframe")
        return ResultView(frame, requests=s.requests, elapsed_ms=s.elapsed_ms, limit=limit, format=fmt)


_registry = _Registry()


def _html_formatter(frame: pd.DataFrame) -> str | None:
    view = _registry.view(frame)
    return view._repr_html_() if view is not None else frame._repr_html_()


def _plain_formatter(frame: pd.DataFrame, p: Any, cycle: bool) -> None:
    view = _registry.view(frame)
    p.text(repr(view) if view is not None else repr(frame))


# ---- progress ------------------------------------------------------------------------------------

class _Progress:
    """A tqdm.auto bar for a scan that has run ``delay`` seconds, fed by the statement's page
    counters (called from the event loop's thread, and once by a timer if no page came yet)."""

    def __init__(self, st: stats.QueryStats, *, enabled: bool, delay: float, desc: str = "crmql") -> None:
        self.st = st
        self.desc = desc
        self.started = time.monotonic()
        self.delay = delay
        self.bar: Any = None
        self.closed = not enabled
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        if enabled:
            st.on_progress = self.update
            self._timer = threading.Timer(delay, self.update)
            self._timer.daemon = True
            self._timer.start()

    def update(self, _stats: Any = None) -> None:
        with self._lock:
            if self.closed or time.monotonic() - self.started < self.delay:
                return
            st = self.st
            if self.bar is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # tqdm.auto warns when ipywidgets is missing
                    from tqdm.auto import tqdm
                self.bar = tqdm(total=st.total_pages, initial=st.pages, unit="page", desc=self.desc, leave=False,
                                mininterval=0.25)
            elif st.total_pages is not None and self.bar.total != st.total_pages:
                self.bar.total = st.total_pages
            self.bar.set_postfix_str(f"{st.rows_fetched:,} rows", refresh=False)
            self.bar.update(st.pages - self.bar.n)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self.bar is not None:
                self.bar.close()
        self.st.on_progress = None


# ---- the magics ----------------------------------------------------------------------------------

@magics_class
class Crmql(Magics):
    """crmql statements in IPython: ``%crmql`` (line) and ``%%crmql`` (cell). See :mod:`crmql.magic`."""

    display_limit = Int(10, help="Rows shown under a result (0: every row); the DataFrame keeps them all.").tag(config=True)
    format = Enum(DISPLAY_FORMATS, default_value="dataframe",
                  help="How results are shown: dataframe (HTML table), table, markdown, csv, json or jsonl.").tag(config=True)
    config_file = Unicode(None, allow_none=True,
                          help="Config file of the default session (None: $CRMQL_CONFIG, the user config, else the sandbox).").tag(config=True)
    progress = Bool(True, help="Show a progress bar for scans that run longer than progress_delay.").tag(config=True)
    progress_delay = Float(0.5, help="Seconds before a running scan shows a progress bar.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._sessions: dict[str | None, Session] = {}

    # ---- sessions
    def session(self, config: str | None = None) -> Session:
        """The session for ``config`` (default: ``Crmql.config_file``), opened on first use."""
        path = config if config is not None else self.config_file
        key = os.path.abspath(os.path.expanduser(path)) if path else None
        if key not in self._sessions:
            try:
                self._sessions[key] = Session(key)
            except CrmqlError as e:
                raise UsageError(str(e)) from None
        return self._sessions[key]

    def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for s in sessions:
            s.close()

    # ---- the magic
    @no_var_expand
    @line_cell_magic
    def crmql(self, line: str, cell: str | None = None) -> Any:
        """Run crmql statements; ``%crmql --help`` lists the options."""
        opts, rest = parse_options(line)
        text = rest if cell is None else (rest + "\n" + cell if rest else cell)
        from .parser import split_statements

        statements = split_statements(text) if text.strip() else []
        if not statements:
            raise UsageError(f"no statement to run\n{USAGE}")
        session = self.session(opts.config)
        value: Any = None
        for sql in statements:
            value = self._run(session, sql, opts)
        if opts.out:
            self.shell.user_ns[opts.out] = value
        return value

    def _run(self, session: Session, sql: str, opts: Options) -> Any:
        from .parser import parse

        try:
            stmt = parse(sql)
            params = bind_from_namespace(stmt, self.shell.user_ns)
            if opts.explain or opts.analyze:
                if not isinstance(stmt, ast.Select):
                    raise UsageError(f"--{'analyze' if opts.analyze else 'explain'} needs a SELECT")
                sql = ("EXPLAIN ANALYZE " if opts.analyze else "EXPLAIN ") + sql
            st = stats.QueryStats()
            scans = isinstance(stmt, (ast.Select, ast.Copy)) or isinstance(stmt, ast.Explain) and stmt.analyze \
                or opts.analyze
            progress = _Progress(st, enabled=self.progress and scans and not opts.explain, delay=self.progress_delay)
            try:
                result = session.execute(sql, params, statement_stats=st)
            finally:
                progress.close()
        except CrmqlError as e:
            raise UsageError(str(e)) from None
        except KeyboardInterrupt:
            raise UsageError("cancelled: the statement was stopped (a COPY leaves no file behind)") from None
        return self._value(result, opts)

    def _value(self, result: Result, opts: Options) -> Any:
        if result.frame is None:
            return TextResult(result.text or "")
        frame = result.frame
        _registry.add(frame, _Shown(result.stats.requests, result.stats.elapsed_ms, opts.limit, opts.format, self))
        return frame


# ---- completion ----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    """The language's reserved words (lower case), from the grammar's word terminals."""
    from .parser import grammar_text

    return frozenset(m.lower() for m in re.findall(r'^\s*[A-Z_][A-Z0-9_]*\s*:\s*"([A-Za-z]+)"i\s*$', grammar_text(), re.M))


_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_REF = re.compile(rf"\b(?:from|join)\s+({_IDENT})\s*\.\s*({_IDENT})(?:\s+(?:as\s+)?({_IDENT}))?", re.I)
_OPTION_NAMES = ("--explain", "--analyze", "--limit", "--config", "--format", "--help")


def _name(n: str) -> str:
    return n if _BARE.match(n) and n.lower() not in _keywords() else '"' + n.replace('"', '""') + '"'


def _unquote_ident(n: str) -> str:
    return n[1:-1].replace('""', '"') if n.startswith('"') else n


def _crmql_text(full_text: str, line: int, column: int) -> tuple[str, int, bool] | None:
    """The crmql text around the cursor, the cursor's offset in it, and whether the cursor is still
    in the options; None when the cursor is not inside ``%crmql`` or ``%%crmql``."""
    lines = full_text.split("\n")
    first = full_text.lstrip()
    if first.startswith("%%crmql"):
        start_line = len(full_text[: len(full_text) - len(first)].split("\n")) - 1
        if line > start_line:
            body = "\n".join(lines[start_line + 1:])
            offset = sum(len(x) + 1 for x in lines[start_line + 1: line]) + column
            return body, offset, False
        magic_line = lines[line][lines[line].index("%%crmql") + 7:]
        return magic_line, column - (len(lines[line]) - len(magic_line)), True
    current = lines[line]
    before = current[:column]
    at = [m.end() for m in re.finditer(r"(?<!%)%crmql\b", before)]
    if not at:
        return None
    text = current[at[-1]:]
    cursor = column - at[-1]
    word = re.search(r"\S*$", text[:cursor]).group(0)  # type: ignore[union-attr]
    if word.startswith("-"):  # an option being typed, if only options come before it
        try:
            if not parse_options(text[: cursor - len(word)])[1]:
                return text, cursor, True
        except UsageError:
            pass
    opts_end = _options_end(text)
    if cursor < opts_end:
        return text, cursor, True
    return text[opts_end:], cursor - opts_end, False


def _options_end(text: str) -> int:
    try:
        _, rest = parse_options(text)
    except UsageError:
        return 0
    return len(text) - len(rest.lstrip()) if rest else len(text)


class Completer:
    """Completes crmql names for IPython (tables after FROM/JOIN, columns of the tables in scope)."""

    def __init__(self, session: Callable[[], Session]) -> None:
        self.session = session

    def tables(self) -> list[tuple[str, str]]:
        session = self.session()
        out = []
        for name in session.config.connections:
            try:
                out.extend((name, t) for t in session.connector(name).tables())
            except Exception:  # a connection that cannot list its tables just completes nothing
                continue
        return out

    def columns(self, connection: str, table: str) -> list[str]:
        try:
            return [c.name for c in self.session().table(connection, table).columns]
        except Exception:
            return []

    def complete(self, sql: str, cursor: int) -> tuple[str, list[tuple[str, str]]]:
        """(the fragment being completed, [(completion, type)]) for the cursor at ``cursor``."""
        before = sql[:cursor]
        token = re.search(r'(?:[\w$]|"[^"]*"?|\.)*$', before).group(0)  # type: ignore[union-attr]
        head = before[: len(before) - len(token)]
        previous = re.search(r"([A-Za-z_]+)\s*$", head)
        keyword = previous.group(1).lower() if previous else ""
        low = token.lower().replace('"', "")
        if keyword in ("from", "join", "describe") and not head.rstrip().endswith(","):
            names = [f"{_name(c)}.{_name(t)}" for c, t in self.tables()]
            return token, [(n, "table") for n in names if n.lower().replace('"', "").startswith(low)]
        scope: dict[str, tuple[str, str]] = {}
        for m in _REF.finditer(sql):
            conn, table = _unquote_ident(m.group(1)), _unquote_ident(m.group(2))
            alias = m.group(3)
            if alias and alias.lower() in _keywords():
                alias = None
            scope[_unquote_ident(alias) if alias else table] = (conn, table)
        if "." in token:
            qualifier, _, partial = token.rpartition(".")
            target = scope.get(_unquote_ident(qualifier)) or next(
                (v for k, v in scope.items() if k.lower() == _unquote_ident(qualifier).lower()), None)
            if target is None:
                return token, []
            p = partial.lower().replace('"', "")
            return token, [(f"{qualifier}.{_name(c)}", "column") for c in self.columns(*target)
                           if c.lower().startswith(p)]
        seen: dict[str, None] = {}
        for conn, table in scope.values():
            for c in self.columns(conn, table):
                if c.lower().startswith(low):
                    seen.setdefault(_name(c))
        return token, [(c, "column") for c in seen]


def _make_matcher(magics: Crmql) -> Callable[..., Any]:
    from IPython.core.completer import SimpleCompletion, context_matcher

    completer = Completer(lambda: magics.session())

    @context_matcher(priority=100, identifier="crmql")
    def crmql_matcher(context: Any) -> dict[str, Any]:
        empty: dict[str, Any] = {"completions": [], "suppress": False}
        try:
            found = _crmql_text(context.full_text, context.cursor_line, context.cursor_position)
            if found is None:
                return empty
            text, cursor, in_options = found
            if in_options:
                token = re.search(r"[-\w]*$", text[:cursor]).group(0)  # type: ignore[union-attr]
                if not token.startswith("-"):
                    return empty
                items = [(o, "option") for o in _OPTION_NAMES if o.startswith(token)]
            else:
                token, items = completer.complete(text, cursor)
        except Exception:  # completion must never break the kernel
            return empty
        return {"completions": [SimpleCompletion(t, type=k) for t, k in items], "matched_fragment": token,
                "suppress": bool(items)}

    return crmql_matcher


# ---- the extension -------------------------------------------------------------------------------

_loaded: dict[int, dict[str, Any]] = {}


def load_ipython_extension(ip: Any) -> None:
    """``%load_ext crmql``: register the magics, the result display and the completer."""
    if id(ip) in _loaded:
        return
    magics = Crmql(shell=ip)
    ip.register_magics(magics)
    state: dict[str, Any] = {"magics": magics}
    formatters = ip.display_formatter.formatters
    state["html"] = formatters["text/html"].for_type(pd.DataFrame, _html_formatter)
    state["plain"] = formatters["text/plain"].for_type(pd.DataFrame, _plain_formatter)
    matcher = _make_matcher(magics)
    ip.Completer.custom_matchers.append(matcher)
    state["matcher"] = matcher
    _loaded[id(ip)] = state


def unload_ipython_extension(ip: Any) -> None:
    """``%unload_ext crmql``: remove what :func:`load_ipython_extension` added and close the sessions."""
    state = _loaded.pop(id(ip), None)
    if state is None:
        return
    magics: Crmql = state["magics"]
    for kind in ("line", "cell"):
        ip.magics_manager.magics[kind].pop("crmql", None)
    if magics in ip.configurables:
        ip.configurables.remove(magics)
    formatters = ip.display_formatter.formatters
    for mime, key in (("text/html", "html"), ("text/plain", "plain")):
        formatters[mime].pop(pd.DataFrame, None)
        if state[key] is not None:
            formatters[mime].for_type(pd.DataFrame, state[key])
    if state["matcher"] in ip.Completer.custom_matchers:
        ip.Completer.custom_matchers.remove(state["matcher"])
    magics.close()
