"""The Voyzu connection's own settings, checked when the connector is made.

A config file's settings are checked when it is loaded (:mod:`crmql.api.config_rules`), but a
program may hand a :class:`crmql.Session` a dict of settings that no rule saw: so the connector
checks the values it reads itself, with the same rules, and a wrong one is a
:class:`~crmql.errors.ConfigError` naming the key (never a ``ValueError`` from deep inside the
async poller at the first query). Numbers written as text (``"300"``, what ``${ENV}``
interpolation yields) are taken, as the config rules take them.

>>> async_settings({})
('auto', 5000, 300.0)
>>> async_settings({"async": "always", "async_rows": "2000", "async_deadline_s": 12.5})
('always', 2000, 12.5)
>>> try:
...     async_settings({"async_deadline_s": "soon"})
... except ConfigError as e:
...     print(e)
async_deadline_s: must be a number greater than 0, not 'soon'
  hint: e.g. async_deadline_s = 300 (seconds an async job may run)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError

__all__ = ["ASYNC_MODES", "DEFAULT_ASYNC_ROWS", "DEFAULT_DEADLINE_S", "async_settings", "number"]

ASYNC_MODES = ("auto", "always", "never")
DEFAULT_ASYNC_ROWS, DEFAULT_DEADLINE_S = 5000, 300.0


def number(settings: Mapping[str, Any], key: str, default: float, *, whole: bool, example: str) -> float:
    """``settings[key]`` as a number greater than 0 (``whole``: an integer of at least 1), or
    ``default`` when it is unset (None or empty text); anything else is a ConfigError.

    >>> number({"n": "7"}, "n", 1, whole=True, example="7"), number({}, "n", 1.5, whole=False, example="2")
    (7, 1.5)
    """
    raw = settings.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            value = None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and whole:
        ok = float(value).is_integer() and value >= 1
    elif ok:
        ok = value > 0
    if not ok:
        expected = "an integer of at least 1" if whole else "a number greater than 0"
        raise ConfigError(f"{key}: must be {expected}, not {raw!r}", hint=f"e.g. {key} = {example}")
    return int(value) if whole else float(value)


def async_settings(settings: Mapping[str, Any]) -> tuple[str, int, float]:
    """``(async, async_rows, async_deadline_s)`` of the connection, checked (see the module docstring)."""
    mode = settings.get("async")
    mode = "auto" if mode is None or mode == "" else mode
    if mode not in ASYNC_MODES:
        raise ConfigError(f"async: {mode!r} is not one of " + ", ".join(ASYNC_MODES), hint='e.g. async = "auto"')
    rows = int(number(settings, "async_rows", DEFAULT_ASYNC_ROWS, whole=True,
                      example=f"{DEFAULT_ASYNC_ROWS} (a request that may carry more rows goes async at once)"))
    deadline = number(settings, "async_deadline_s", DEFAULT_DEADLINE_S, whole=False,
                      example=f"{DEFAULT_DEADLINE_S:g} (seconds an async job may run)")
    return mode, rows, deadline
