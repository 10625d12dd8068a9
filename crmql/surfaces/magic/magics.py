"""The ``%crmql`` / ``%%crmql`` magics: the :class:`Crmql` Magics class (sessions, running
statements with ``:name`` bound from the notebook's variables) and its registration as the IPython
extension (:func:`load_ipython_extension`, :func:`unload_ipython_extension`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Float, Int, Unicode

from ...language import ast
from ... import stats
from ...errors import CrmqlError
from ...api.session import Result, Session
from .complete import _make_matcher
from .display import TextResult, _html_formatter, _plain_formatter, _registry, _Shown
from .options import DISPLAY_FORMATS, USAGE, Options, parse_options
from .progress import _Progress

__all__ = ["Crmql", "bind_from_namespace", "load_ipython_extension", "param_names", "unload_ipython_extension"]


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


# ---- the magics ----------------------------------------------------------------------------------

@magics_class
class Crmql(Magics):
    """crmql statements in IPython: ``%crmql`` (line) and ``%%crmql`` (cell). See :mod:`crmql.surfaces.magic`."""

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
        from ...language.parser import split_statements

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
        from ...language.parser import parse

        try:
            stmt = parse(sql)
            params = bind_from_namespace(stmt, self.shell.user_ns)
            if opts.explain or opts.analyze:
                if not isinstance(stmt, ast.Select):
                    raise UsageError(f"--{'analyze' if opts.analyze else 'explain'} needs a SELECT")
            st = stats.QueryStats()
            scans = isinstance(stmt, (ast.Select, ast.Copy)) or isinstance(stmt, ast.Explain) and stmt.analyze \
                or opts.analyze
            progress = _Progress(st, enabled=self.progress and scans and not opts.explain, delay=self.progress_delay)
            try:
                explain = "analyze" if opts.analyze else "plan" if opts.explain else None
                result = session.execute(sql, params, statement_stats=st, explain=explain)
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
    matcher = _make_matcher(lambda: magics.session())
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
