"""Vendor name -> connector class. Adding a vendor is one line here plus its module.

>>> sorted(CONNECTORS)
['atlas', 'azavista']
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from ..plan.connector import Connector

__all__ = ["CONNECTORS", "create_connector"]

#: vendor -> "module:class"; a class is imported on first use, so listing the vendors stays cheap
_CLASSES: dict[str, str] = {
    "azavista": "crmql.connectors.azavista.connector:AzavistaConnector",
    "atlas": "crmql.connectors.atlas.connector:AtlasConnector",
}


class _Connectors(Mapping[str, "type[Connector]"]):
    def __getitem__(self, vendor: str) -> type[Connector]:
        module, _, name = _CLASSES[vendor].partition(":")
        return getattr(importlib.import_module(module), name)

    def __contains__(self, vendor: object) -> bool:
        return vendor in _CLASSES

    def __iter__(self) -> Iterator[str]:
        return iter(_CLASSES)

    def __len__(self) -> int:
        return len(_CLASSES)


CONNECTORS: Mapping[str, type[Connector]] = _Connectors()


def create_connector(name: str, vendor: str, settings: dict[str, Any]) -> Connector:
    """Instantiate the connector for ``vendor``, checking its required settings."""
    cls = CONNECTORS.get(vendor)
    if cls is None:
        raise ConfigError(f"connection '{name}': unknown vendor '{vendor}'",
                          hint=did_you_mean(vendor, CONNECTORS) or f"vendors: {', '.join(sorted(CONNECTORS))}")
    missing = [k for k in cls.required_settings if not settings.get(k)]
    if missing:
        raise ConfigError(f"connection '{name}' ({vendor}) is missing {', '.join(missing)}",
                          hint=f"add them under [connections.{name}] in the config file")
    return cls(name, settings)
