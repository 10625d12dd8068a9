"""Vendor name -> connector class. Adding a vendor is one line here plus its module.

>>> sorted(CONNECTORS)
['atlas', 'azavista']
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, did_you_mean
from .atlas import AtlasConnector
from .azavista import AzavistaConnector
from .base import Connector

__all__ = ["CONNECTORS", "create_connector"]

CONNECTORS: dict[str, type[Connector]] = {
    "azavista": AzavistaConnector,
    "atlas": AtlasConnector,
}


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
