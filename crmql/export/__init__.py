r'''Writing results to files: CSV (RFC 4180), JSON Lines, JSON, Markdown, text tables and Parquet.

Every surface writes through this module, so ``COPY (...) TO 'f.csv'``, the CLI's ``--output``,
the REPL's ``\o`` and :func:`write_frame` on a notebook's DataFrame produce the same bytes for
the same rows and format:

* CSV: RFC 4180 quoting (delimiter, quote, CR and LF trigger quotes; quotes are doubled), CRLF
  line ends, UTF-8 without BOM, a header row (``HEADER false`` drops it), ISO-8601 times, an empty
  field for NULL, and nothing but data. ``SAFE true`` neutralises text cells starting with ``=``,
  ``+``, ``-``, ``@``, tab or CR by prefixing a single quote (OWASP's advice for files opened in
  a spreadsheet).
* Rows are written batch by batch as they arrive: a query with no global step (no ORDER BY,
  GROUP BY, DISTINCT, aggregate, join or OFFSET) is streamed page by page by
  :func:`crmql.exec.executor.stream_plan`, so memory stays flat however many rows there are.
* Files are written atomically: into a temporary file in the target's directory, renamed over the
  target only once complete. A failed or cancelled export (Ctrl-C, or SIGTERM) leaves no file
  behind and never replaces an existing file with a partial one. A FIFO, a character device
  (``/dev/null``) or a descriptor's path (``/dev/stdout``, ``/dev/fd/N``) is written directly, never
  replaced.
* The format is the one given, else the file's extension's (:func:`export_format`); a path with no
  extension is CSV, and an extension crmql does not write (``.xlsx``) is an error.
* Column names are unique (``id``, ``id_1``, ... for a repeated name), as on screen.

The package's modules: :mod:`~crmql.export.options` (formats and ``COPY`` options),
:mod:`~crmql.export.writers` (one writer per format), :mod:`~crmql.export.files` (atomic files,
DataFrames to files or bytes), :mod:`~crmql.export.partitioned` (``PARTITION_BY``: a Hive-partitioned
Parquet directory), all importable from ``crmql.export`` itself. Running a statement to
export it (``COPY``, ``--output``, ``\o``) is the API's: :mod:`crmql.api.copy`, which calls this package
(export sits below the API and never imports it).

>>> import pandas as pd
>>> frame = pd.DataFrame({"name": ['say "hi"', "=1+1", None], "n": [1, -2, 3]})
>>> print(frame_bytes(frame, "csv", safe=True).decode())  # doctest: +NORMALIZE_WHITESPACE
name,n
"say ""hi""",1
'=1+1,-2
,3
<BLANKLINE>
'''

from __future__ import annotations

import logging

from .files import atomic_file, frame_bytes, is_stdout, open_export, write_frame
from .options import EXPORT_FORMATS, ExportOptions, export_format, has_extension
from .partitioned import PartitionedWriter, open_partitioned
from .writers import (
    FORMULA_PREFIXES,
    PARQUET_ROW_GROUP,
    CsvWriter,
    JsonlWriter,
    JsonWriter,
    MarkdownWriter,
    ParquetWriter,
    TableWriter,
    Writer,
    make_writer,
)

__all__ = [
    "EXPORT_FORMATS",
    "ExportOptions",
    "PartitionedWriter",
    "Writer",
    "atomic_file",
    "export_format",
    "frame_bytes",
    "has_extension",
    "is_stdout",
    "open_export",
    "open_partitioned",
    "write_frame",
    # also importable from here, as before the split into modules
    "FORMULA_PREFIXES",
    "PARQUET_ROW_GROUP",
    "CsvWriter",
    "JsonWriter",
    "JsonlWriter",
    "MarkdownWriter",
    "ParquetWriter",
    "TableWriter",
    "make_writer",
]

log = logging.getLogger(__name__)
