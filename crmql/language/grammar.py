"""The grammar's source text (``grammar/crmql.lark``), read without importing Lark.

The shell's highlighter reads its keywords from here before the first prompt, so this module
must stay light: Lark itself loads with the parser, in the background.

>>> "select" in grammar_text().lower()
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["grammar_text"]


def grammar_text() -> str:
    """The grammar source: the copy packaged in the wheel, else the repository's grammar/ file."""
    packaged = resources.files("crmql").joinpath("grammar/crmql.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "crmql.lark").read_text(encoding="utf-8")
