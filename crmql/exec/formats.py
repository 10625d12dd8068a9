"""Result frames as text: aligned table, CSV (RFC 4180), JSON, JSON Lines, Markdown.

Every format shows times as ISO-8601 and NULL as the format's own null (``NULL`` in tables, an
empty field in CSV, ``null`` in JSON). A result's column names are unique (:func:`unique_names`:
``id``, ``id_1``, ... as DuckDB and pandas name repeats), whichever path produced the frame, so no
format loses a column to a repeated key.

>>> import pandas as pd
>>> print(render(pd.DataFrame({"name": ["a", None], "n": [1, 22]}), "table"))
 name | n
------+----
 a    |  1
 NULL | 22
(2 rows)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EXTENSIONS", "FORMATS", "format_for_path", "python_rows", "render", "unique_names", "with_unique_names"]

FORMATS = ("table", "csv", "json", "jsonl", "markdown")
#: the file extensions crmql knows, and the format each one asks for
EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".md": "markdown",
               ".markdown": "markdown", ".txt": "table", ".parquet": "parquet"}


def format_for_path(path: str | Path) -> str | None:
    """The format a file name asks for, from its extension; None when it has none or crmql does not
    know it (:meth:`crmql.export.ExportOptions.for_path` makes the latter an error).

    >>> format_for_path("out.JSONL"), format_for_path("out.xlsx"), format_for_path("out")
    ('jsonl', None, None)
    """
    return EXTENSIONS.get(Path(path).suffix.lower())


def _py(value: Any) -> Any:
    """A frame cell as a plain Python value (None for every kind of missing)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, np.ndarray):
        return [_py(v) for v in value.tolist()]
    return value


def python_rows(frame: pd.DataFrame) -> Iterator[list[Any]]:
    """Rows of plain Python values, read column by column in linear time (by position: names may
    repeat in a frame built by hand).

    >>> list(python_rows(pd.DataFrame([[1, None]], columns=["a", "a"])))
    [[1, None]]
    """
    columns = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
    if not columns:
        for _ in range(len(frame)):
            yield []
        return
    for row in zip(*columns):
        yield [_py(v) for v in row]


def unique_names(names: Iterable[Any]) -> list[str]:
    """Result column names made unique the way DuckDB and pandas users know: a name's first
    occurrence keeps it, a repeat gets ``_1``, ``_2``, ... (the first suffix no other column has,
    so a name the query gave explicitly is never changed). Names are compared exactly (``A`` and
    ``a`` are two names, as in JSON, pandas and Parquet). Linear time.

    >>> unique_names(["id", "name", "id", "id_1", "id", 3])
    ['id', 'name', 'id_2', 'id_1', 'id_3', '3']
    """
    names = [str(n) for n in names]
    taken = set(names)
    if len(taken) == len(names):
        return names
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}
    result = []
    for name in names:
        if name in seen:
            k = next_suffix.get(name, 1)
            while f"{name}_{k}" in taken:
                k += 1
            next_suffix[name] = k + 1
            new = f"{name}_{k}"
            taken.add(new)
            result.append(new)
        else:
            seen.add(name)
            result.append(name)
    return result


def with_unique_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`unique_names` as its (string) column names; the frame itself when they
    already are (no copy of the data either way)."""
    names = unique_names(frame.columns)
    if names == list(frame.columns):
        return frame
    return frame.set_axis(names, axis=1)


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    value = _iso(value)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _json_value(value: Any) -> Any:
    value = _iso(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def render(frame: pd.DataFrame, fmt: str = "table", *, max_cell: int | None = 80, footer: bool = True) -> str:
    """The whole frame as one string in ``fmt``."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(unique_names(frame.columns))
        for row in python_rows(frame):
            writer.writerow([_text(v) for v in row])
        return buf.getvalue()
    if fmt == "json":
        names = unique_names(frame.columns)
        data = [dict(zip(names, (_json_value(v) for v in row))) for row in python_rows(frame)]
        return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "jsonl":
        names = unique_names(frame.columns)
        return "".join(json.dumps(dict(zip(names, (_json_value(v) for v in row))), ensure_ascii=False, default=str) + "\n"
                       for row in python_rows(frame))
    if fmt == "markdown":
        return _markdown(frame)
    if fmt == "table":
        return _table(frame, max_cell=max_cell, footer=footer)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _cut(text: str, width: int | None) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")
    if width is not None and len(text) > width:
        return text[: max(1, width - 1)] + "…"
    return text


def _table(frame: pd.DataFrame, *, max_cell: int | None, footer: bool) -> str:
    names = unique_names(frame.columns)
    numeric = [pd.api.types.is_numeric_dtype(frame.iloc[:, i]) and not pd.api.types.is_bool_dtype(frame.iloc[:, i])
               for i in range(len(names))]
    rows = [["NULL" if v is None else _cut(_text(v), max_cell) for v in row] for row in python_rows(frame)]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    lines = [" " + " | ".join(n.ljust(widths[i]) for i, n in enumerate(names)).rstrip()]
    lines.append("-" + "-+-".join("-" * w for w in widths) + "-")
    for r in rows:
        cells = [(c.rjust(widths[i]) if numeric[i] and c != "NULL" else c.ljust(widths[i])) for i, c in enumerate(r)]
        lines.append((" " + " | ".join(cells)).rstrip())
    if footer:
        lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _markdown(frame: pd.DataFrame) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    names = [esc(n) for n in unique_names(frame.columns)]
    lines = ["| " + " | ".join(names) + " |", "|" + "|".join(" --- " for _ in names) + "|"]
    for row in python_rows(frame):
        lines.append("| " + " | ".join(esc(_text(v)) if v is not None else "" for v in row) + " |")
    return "\n".join(lines) + "\n"
