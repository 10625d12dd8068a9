"""Statement parameters given as text: ``--param NAME=VALUE`` of the CLI and of the shell.

The CLI and the shell both read ``NAME=VALUE`` pairs into the parameters a statement binds
(``:name``). Each value stays text (:class:`~crmql.language.values.ParamText`) that the binder
types by what it meets: a column, a number, an interval.

>>> parse_params(["n=5", "name=O'Neil", "c=NL", "c=DE"])
{'n': '5', 'name': "O'Neil", 'c': ['NL', 'DE']}
>>> parse_params(["oops"])
Traceback (most recent call last):
crmql.api.params.ParamError: --param needs NAME=VALUE, got 'oops'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..language.values import ParamText

__all__ = ["ParamError", "parse_params"]


class ParamError(ValueError):
    """A ``NAME=VALUE`` item without a name or an ``=`` (a usage error: exit code 2)."""


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs -> dict of :class:`~crmql.language.values.ParamText`.

    A name given more than once is a list, in the order given (for ``IN :name``), so no value
    ever needs splitting or quoting; a leading ``:`` on the name is dropped.

    >>> parse_params([":n=1", "n=2"])
    {'n': ['1', '2']}
    """
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParamError(f"--param needs NAME=VALUE, got {item!r}")
        key = name.strip().lstrip(":")
        if key in out:
            out[key] = [*(out[key] if isinstance(out[key], list) else [out[key]]), ParamText(value)]
        else:
            out[key] = ParamText(value)
    return out
