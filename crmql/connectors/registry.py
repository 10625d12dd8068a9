"""Vendor name -> connector class, read from the vendor registry (:mod:`crmql.vendors`): a vendor is
registered once, by its ``crmql.vendors`` entry point, and nothing here names one.

>>> list(CONNECTORS)[:2]  # the built-ins first, then any vendor a plugin registers
['azavista', 'atlas']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, did_you_mean
from ..vendors import REGISTER_HINT, vendors

if TYPE_CHECKING:
    from ..plan.connector import Connector

__all__ = ["CONNECTORS", "create_connector"]


class _Connectors(Mapping[str, "type[Connector]"]):
    """The registered vendors' connector classes; a class is imported on first use, so listing the
    vendors stays cheap."""

    def __getitem__(self, vendor: str) -> type[Connector]:
        spec = vendors()[vendor]
        cls: type[Connector] = spec.connector_class()
        return cls

    def __contains__(self, vendor: object) -> bool:
        return vendor in vendors()

    def __iter__(self) -> Iterator[str]:
        return iter(vendors())

    def __len__(self) -> int:
        return len(vendors())

    def __repr__(self) -> str:
        return f"<crmql connectors: {', '.join(vendors())}>"


CONNECTORS: Mapping[str, type[Connector]] = _Connectors()


def create_connector(name: str, vendor: str, settings: dict[str, Any]) -> Connector:
    """Instantiate the connector for ``vendor``, checking its required settings (the spec's and the
    class's).

    >>> create_connector("crm", "azavsta", {})
    Traceback (most recent call last):
    crmql.errors.ConfigError: connection 'crm': unknown vendor 'azavsta'
      hint: did you mean azavista?
    >>> create_connector("crm", "atlas", {"base_url": "http://127.0.0.1:1/atlas"})
    Traceback (most recent call last):
    crmql.errors.ConfigError: connection 'crm' (atlas) is missing client_id, client_secret
      hint: add them under [connections.crm] in the config file
    """
    known = vendors()
    spec = known.get(vendor)
    if spec is None:
        raise ConfigError(f"connection '{name}': unknown vendor '{vendor}'",
                          hint=did_you_mean(vendor, known) or f"vendors: {', '.join(sorted(known))}; {REGISTER_HINT}")
    cls = spec.connector_class()
    if defaults := getattr(cls, "default_settings", None):  # what the connection leaves unset (casavi's base_url)
        settings = {**settings, **{k: v for k, v in defaults.items() if settings.get(k) in (None, "")}}
    required = dict.fromkeys((*spec.required_settings, *getattr(cls, "required_settings", ())))
    missing = [k for k in required if not settings.get(k)]
    if missing:
        raise ConfigError(f"connection '{name}' ({vendor}) is missing {', '.join(missing)}",
                          hint=f"add them under [connections.{name}] in the config file")
    return cls(name, settings)
