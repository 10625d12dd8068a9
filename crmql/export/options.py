"""Export options: the formats a file can be written in and the options of ``COPY ... WITH (...)``.

:class:`ExportOptions` is what every surface hands to :func:`crmql.export.open_export`: the format
(given, or guessed from the file's extension by :meth:`ExportOptions.for_path`) and the CSV-only
``HEADER``, ``DELIMITER`` and ``SAFE``, checked once here so that a writer never sees a bad value.

``PARTITION_BY (col, ...)`` writes a Hive-partitioned directory (:mod:`crmql.export.partitioned`)
and is Parquet only: a partitioned dataset is read by engines that take its schema from the files
(Spark, DuckDB, pyarrow), and only Parquet carries crmql's types (UTC timestamps, decimals, lists);
a CSV dataset would be re-typed by each reader's guess, file by file. With ``PARTITION_BY`` and no
``FORMAT`` the format is Parquet (the directory has no extension to tell it). ``OVERWRITE``
replaces an existing non-empty directory (only once the new one is complete); DuckDB's
``OVERWRITE_OR_IGNORE`` (write into the old directory, leaving files the new export does not
replace) is refused: the directory would then hold rows that are not the query's result.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from dataclasses import dataclass
from typing import Any

from ..errors import QueryError, did_you_mean
from ..exec.formats import EXTENSIONS, format_for_path

__all__ = ["EXPORT_FORMATS", "ExportOptions", "export_format", "has_extension"]

log = logging.getLogger(__name__)

#: the formats a file can be written in (COPY's FORMAT, --output's extension)
EXPORT_FORMATS = ("csv", "jsonl", "json", "parquet", "markdown", "table")

_OPTIONS = ("format", "header", "delimiter", "safe", "partition_by", "overwrite")
_OPTION_LIST = "FORMAT, HEADER, DELIMITER, SAFE, PARTITION_BY, OVERWRITE"
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


@dataclass(frozen=True)
class ExportOptions:
    """How to write a file. ``header``, ``delimiter`` and ``safe`` apply to CSV only;
    ``partition_by`` (Parquet only) makes the path a Hive-partitioned directory, which
    ``overwrite`` allows to exist already.

    >>> ExportOptions("parquet", partition_by=("city",)).partitioned
    True
    """

    format: str = "csv"
    header: bool = True
    delimiter: str = ","
    safe: bool = False
    partition_by: tuple[str, ...] = ()
    overwrite: bool = False

    @property
    def partitioned(self) -> bool:
        """Whether the export is a directory of files, one folder per partition value."""
        return bool(self.partition_by)

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
        columns = (self.partition_by,) if isinstance(self.partition_by, str) else tuple(self.partition_by)
        object.__setattr__(self, "partition_by", columns)
        if columns and fmt != "parquet":
            raise QueryError(f"PARTITION_BY writes Parquet only, not {fmt}",
                             hint="write FORMAT parquet (Spark, DuckDB and pandas read it with its types)")
        for i, name in enumerate(columns):
            if not isinstance(name, str) or not name:
                raise QueryError(f"PARTITION_BY takes column names, not {name!r}", hint="e.g. PARTITION_BY (city)")
            if name in columns[:i]:
                raise QueryError(f"PARTITION_BY names {name} twice", hint="name each column once")

    @classmethod
    def for_path(cls, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> ExportOptions:
        """Options for ``path``: the format given, else the file's extension, else (no extension,
        e.g. ``/dev/stdout``) CSV. An extension crmql does not write (``.xlsx``) is an error naming
        the formats, never a silent CSV. A ``.tsv`` file is CSV whose delimiter is a tab unless one
        is given (``delimiter=None`` is not given).

        >>> ExportOptions.for_path("out.parquet").format, ExportOptions.for_path("out").format
        ('parquet', 'csv')
        >>> ExportOptions.for_path("out.tsv").delimiter
        '\\t'
        >>> ExportOptions.for_path("out.xlsx")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        crmql.errors.QueryError: cannot tell the format of out.xlsx: crmql does not write .xlsx files...
        """
        fmt = format or export_format(path)
        if options.get("delimiter") is None:
            options.pop("delimiter", None)
            if str(fmt).lower() == "csv" and _is_tsv(path):
                options["delimiter"] = "\t"
        return cls(format=fmt, **options)

    @classmethod
    def from_copy(cls, path: str, options: Sequence[tuple[str, Any]]) -> ExportOptions:
        """Options of a ``COPY ... TO path WITH (...)`` statement."""
        given: dict[str, Any] = {}
        for name, value in options:
            name = name.lower()
            if name not in _OPTIONS:
                if name == "overwrite_or_ignore":
                    raise QueryError("OVERWRITE_OR_IGNORE is not supported: the old directory's other files "
                                     "would stay beside the new ones", hint="write OVERWRITE to replace the directory")
                hint = did_you_mean(name, _OPTIONS) or f"options: {_OPTION_LIST}"
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
        if "overwrite" in given:
            kwargs["overwrite"] = _boolean("OVERWRITE", given["overwrite"])
        fmt = given.get("format")
        if fmt is not None and not isinstance(fmt, str):
            raise QueryError("FORMAT must be a name", hint=f"e.g. FORMAT csv; formats: {', '.join(EXPORT_FORMATS)}")
        if "partition_by" in given:
            kwargs["partition_by"] = _names(given["partition_by"])
            fmt = fmt or "parquet"  # a directory has no extension to tell the format by
        return cls.for_path(path, fmt, **kwargs)


def export_format(path: str | os.PathLike[str]) -> str:
    """The format ``path``'s extension asks for; CSV when it has none; a :class:`QueryError` listing
    what crmql writes when it has one crmql does not know (``--output x.xlsx`` used to write CSV).

    >>> export_format("report.MD"), export_format("/dev/stdout"), export_format("x.tsv")
    ('markdown', 'csv', 'csv')
    >>> export_format("report.2024"), export_format("contacts.2026-12-03")  # a date is no extension
    ('csv', 'csv')
    """
    fmt = format_for_path(path)
    if fmt is not None:
        return fmt
    suffix = Path(os.fspath(path)).suffix
    if not has_extension(path) or _is_tsv(path):
        return "csv"
    raise QueryError(f"cannot tell the format of {Path(os.fspath(path)).name}: crmql does not write {suffix} files",
                     hint=f"write to {_extensions()}, or name the format: FORMAT in COPY, --format on the command "
                          f"line ({', '.join(EXPORT_FORMATS)})")


def has_extension(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an extension: a suffix with a letter in it (``report.2024`` and
    ``contacts.2026-12-03`` end in a date or a number, not an extension).

    >>> has_extension("a.csv"), has_extension("a"), has_extension("report.2024"), has_extension("v1.2.md")
    (True, False, False, True)
    """
    return any(c.isalpha() for c in Path(os.fspath(path)).suffix)


def _is_tsv(path: str | os.PathLike[str]) -> bool:
    return Path(os.fspath(path)).suffix.lower() == ".tsv"


def _extensions() -> str:
    by_format: dict[str, list[str]] = {}
    for ext, fmt in EXTENSIONS.items():
        by_format.setdefault(fmt, []).append(ext)
    parts = [f"{exts[0]} ({', '.join(exts[1:])})" if len(exts) > 1 else exts[0] for exts in by_format.values()]
    parts = [p + " (a text table)" if p == ".txt" else p for p in parts]
    parts.insert(1, ".tsv (tab-separated)")
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).lower() in _TRUE | _FALSE:
        return str(value).lower() in _TRUE
    raise QueryError(f"{name} must be true or false, not {value!r}", hint=f"e.g. {name} true")


def _names(value: Any) -> tuple[str, ...]:
    """PARTITION_BY's value: ``(a, b)`` (an :class:`~crmql.language.ast.Names`), one name, or a string."""
    names = getattr(value, "names", None)
    if names is not None:
        return tuple(names)
    if isinstance(value, str):
        return (value,)
    raise QueryError(f"PARTITION_BY takes column names, not {value!r}", hint="e.g. PARTITION_BY (city, year)")


def _delimiter(value: str) -> str:
    if value in ("\\t", "tab", "TAB"):
        return "\t"
    if not isinstance(value, str) or len(value) != 1:
        raise QueryError(f"DELIMITER must be one character, not {value!r}", hint="e.g. DELIMITER ';' or DELIMITER '\\t'")
    if value in ('"', "\r", "\n"):
        raise QueryError(f"DELIMITER cannot be {value!r}", hint="e.g. DELIMITER ';'")
    return value
