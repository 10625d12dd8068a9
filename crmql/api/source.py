"""The text of a SQL script from a file or standard input, read as the command line and the shell's
``\\i`` read it: UTF-8 (a leading byte-order mark dropped), bounded by :data:`crmql.language.parser.MAX_TEXT`.

>>> import os, tempfile
>>> with tempfile.NamedTemporaryFile("wb", suffix=".sql", delete=False) as f:
...     _ = f.write("\\ufeffSELECT 1;".encode())
>>> read_script(f.name)
'SELECT 1;'
>>> os.unlink(f.name)
"""

from __future__ import annotations

import os
import sys

from ..errors import CrmqlError

__all__ = ["ScriptReadError", "read_script"]


class ScriptReadError(CrmqlError):
    """A script that cannot be read: missing, over :data:`crmql.language.parser.MAX_TEXT`, or not UTF-8 (exit 2)."""

    exit_code = 2  # a usage error, as for the command line's other input


def read_script(path: str | os.PathLike[str]) -> str:
    """A script's text: at most ``parser.MAX_TEXT`` bytes of UTF-8 (a leading byte-order mark is
    dropped), from a file or, for ``-``, standard input. Raises :class:`ScriptReadError` naming the
    file (and, for a bad byte, its line); never reads more than the limit.

    >>> read_script("/nonexistent.sql")
    Traceback (most recent call last):
    crmql.api.source.ScriptReadError: cannot read /nonexistent.sql: No such file or directory
    """
    from ..language.parser import MAX_TEXT

    name = "standard input" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(MAX_TEXT + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_TEXT + 1)
    except OSError as e:
        raise ScriptReadError(f"cannot read {name}: {e.strerror}") from None
    if len(data) > MAX_TEXT:
        raise ScriptReadError(f"{name} is larger than {MAX_TEXT // 2**20} MB, the limit for a script")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ScriptReadError(f"{name} is not UTF-8 text: byte 0x{data[e.start]:02x} at line {line}, "
                              f"byte {column}") from None
