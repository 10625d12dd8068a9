"""Export options: the formats a file can be written in and the options of ``COPY ... WITH (...)``.

:class:`ExportOptions` is what every surface hands to :func:`crmql.export.open_export`: the format
(given, or guessed from the file's extension by :meth:`ExportOptions.for_path`) and the CSV-only
``HEADER``, ``DELIMITER`` and ``SAFE``, checked once here so that a writer never sees a bad value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import QueryError, did_you_mean
from ..formats import format_for_path

__all__ = ["EXPORT_FORMATS", "ExportOptions"]

log = logging.getLogger(__name__)

#: the formats a file can be written in (COPY's FORMAT, --output's extension)
EXPORT_FORMATS = ("csv", "jsonl", "json", "parquet", "markdown", "table")

_OPTIONS = ("format", "header", "delimiter", "safe")
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


@dataclass(frozen=True)
class ExportOptions:
    """How to write a file. ``header``, ``delimiter`` and ``safe`` apply to CSV only."""

    format: str = "csv"
    header: bool = True
    delimiter: str = ","
    safe: bool = False

    def __post_init__(self) -> None:
        fmt = str(self.format).lower()
        if fmt not in EXPORT_FORMATS:
            hint = did_you_mean(fmt, EXPORT_FORMATS) or f"formats: {', '.join(EXPORT_FORMATS)}"
            raise QueryError(f"unknown export format '{self.format}'", hint=hint)
        object.__setattr__(self, "format", fmt)
        delimiter = _delimiter(self.delimiter)
        object.__setattr__(self, "delimiter", delimiter)
        if fmt != "csv":
            for name, value, default in (("HEADER", self.header, True), ("DELIMITER", delimiter, ","),
                                         ("SAFE", self.safe, False)):
                if value != default:
                    raise QueryError(f"{name} applies to CSV only, not to {fmt}",
                                     hint=f"drop {name} or write FORMAT csv")

    @classmethod
    def for_path(cls, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> ExportOptions:
        """Options for ``path``: the format given, else the file's extension, else CSV."""
        return cls(format=format or format_for_path(path) or "csv", **options)

    @classmethod
    def from_copy(cls, path: str, options: Sequence[tuple[str, Any]]) -> ExportOptions:
        """Options of a ``COPY ... TO path WITH (...)`` statement."""
        given: dict[str, Any] = {}
        for name, value in options:
            name = name.lower()
            if name not in _OPTIONS:
                hint = did_you_mean(name, _OPTIONS) or "options: FORMAT, HEADER, DELIMITER, SAFE"
                raise QueryError(f"unknown COPY option {name.upper()}", hint=hint)
            if name in given:
                raise QueryError(f"COPY option {name.upper()} is given twice")
            given[name] = value
        kwargs: dict[str, Any] = {}
        if "header" in given:
            kwargs["header"] = _boolean("HEADER", given["header"])
        if "safe" in given:
            kwargs["safe"] = _boolean("SAFE", given["safe"])
        if "delimiter" in given:
            if not isinstance(given["delimiter"], str):
                raise QueryError("DELIMITER must be a one-character string", hint="e.g. DELIMITER ';'")
            kwargs["delimiter"] = given["delimiter"]
        fmt = given.get("format")
        if fmt is not None and not isinstance(fmt, str):
            raise QueryError("FORMAT must be a name", hint=f"e.g. FORMAT csv; formats: {', '.join(EXPORT_FORMATS)}")
        return cls.for_path(path, fmt, **kwargs)


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).lower() in _TRUE | _FALSE:
        return str(value).lower() in _TRUE
    raise QueryError(f"{name} must be true or false, not {value!r}", hint=f"e.g. {name} true")


def _delimiter(value: str) -> str:
    if value in ("\\t", "tab", "TAB"):
        return "\t"
    if not isinstance(value, str) or len(value) != 1:
        raise QueryError(f"DELIMITER must be one character, not {value!r}", hint="e.g. DELIMITER ';' or DELIMITER '\\t'")
    if value in ('"', "\r", "\n"):
        raise QueryError(f"DELIMITER cannot be {value!r}", hint="e.g. DELIMITER ';'")
    return value
