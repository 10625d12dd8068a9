"""casavi's registration: the one place crmql learns about this vendor (entry point
``crmql.vendors: casavi`` in ``pyproject.toml``).

>>> VENDOR.name, VENDOR.required_settings
('casavi', ('base_url', 'key', 'secret'))
"""

from ...vendors import VendorSpec

__all__ = ["VENDOR"]

VENDOR = VendorSpec(
    name="casavi",
    display_name="casavi",
    connector="crmql.connectors.casavi.connector:CasaviConnector",
    simulator="crmql.sandbox.casavi.spec:SIMULATOR",
    config_keys=("key", "secret"),
    docs=("shared/vendor-docs/casavi-manager-api.txt (Manager API, Open API 2.0 rendering)",
          "shared/vendor-notes.md section 4, ambiguities 21-23 and 26",
          "https://api.mycasavi.com/v2/docs/manager"),
    rank=30,
    description="property management: contacts, properties, units, contracts, responsibilities",
)
