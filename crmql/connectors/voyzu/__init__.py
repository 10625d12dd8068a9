"""crmql.connectors.voyzu: the Voyzu CRM API's connector (``VoyzuConnector``, in :mod:`.connector`;
its columns in :mod:`.columns`, the search readings in :mod:`.readings`, the free-text push rule in
:mod:`.search`, its rows in :mod:`.rows`) and the vendor's registration (``VENDOR``, in
:mod:`.vendor`). Both are loaded on first use: the registry imports this package to list the
vendors, which must stay cheap (no HTTP client, no catalog).

>>> from crmql.connectors.voyzu import VENDOR
>>> VENDOR.name
'voyzu'
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["VENDOR", "VoyzuConnector"]

_LAZY = {"VoyzuConnector": ".connector", "VENDOR": ".vendor"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
