"""crmql.connectors.casavi: the connector (``CasaviConnector``, in :mod:`.connector`), its custom
fields (:mod:`.custom_fields`; the sample request they are learned from, :mod:`.sample`) and the
vendor's registration (``VENDOR``, in :mod:`.vendor`). Both are loaded on first use: the registry
imports this package to list the vendors, which must stay cheap (no HTTP client, no catalog).

>>> from crmql.connectors.casavi import CasaviConnector
>>> CasaviConnector.vendor
'casavi'
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CasaviConnector", "VENDOR"]

_LAZY = {"CasaviConnector": ".connector", "VENDOR": ".vendor"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
