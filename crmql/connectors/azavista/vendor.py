"""Azavista's registration: the one place crmql learns about this vendor (entry point
``crmql.vendors: azavista`` in ``pyproject.toml``).

>>> VENDOR.name, VENDOR.required_settings
('azavista', ('base_url', 'client_id', 'client_secret'))
"""

from ...vendors import VendorSpec

__all__ = ["VENDOR"]

VENDOR = VendorSpec(
    name="azavista",
    display_name="Azavista",
    connector="crmql.connectors.azavista.connector:AzavistaConnector",
    simulator="crmql.sandbox.azavista.spec:SIMULATOR",
    config_keys=("client_id", "client_secret"),
    docs=("shared/vendor-docs/azavista.txt (support article 'APIs - Using Azavista's APIs')",
          "shared/vendor-notes.md section 1"),
    rank=10,
    description="event management: events, contacts, organizations",
)
