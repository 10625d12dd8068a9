"""The options of ``%crmql`` / ``%%crmql``: what comes before the statement on the magic's line.

>>> parse_options("--limit 5 -o df SELECT 1 FROM a.b")
(Options(explain=False, analyze=False, limit=5, config=None, format=None, out='df'), 'SELECT 1 FROM a.b')
>>> parse_options("df << SELECT x FROM a.b")[0].out
'df'
"""

from __future__ import annotations

import dataclasses
import re

from IPython.core.error import UsageError

__all__ = ["DISPLAY_FORMATS", "USAGE", "Options", "parse_options"]

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
