"""crmql.connectors.casavi_community: the casavi Community API's connector (``CommunityConnector``,
in :mod:`.connector`; its columns in :mod:`.columns`, its rows in :mod:`.rows`) and the vendor's
registration (``VENDOR``, in :mod:`.vendor`). Both are loaded on first use: the registry imports
this package to list the vendors, which must stay cheap (no HTTP client, no catalog).

>>> from crmql.connectors.casavi_community import VENDOR
>>> VENDOR.name
'casavi_community'
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CommunityConnector", "VENDOR"]

_LAZY = {"CommunityConnector": ".connector", "VENDOR": ".vendor"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
