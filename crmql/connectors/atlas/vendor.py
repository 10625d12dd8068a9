"""Atlas CRM's registration: the one place crmql learns about this vendor (entry point
``crmql.vendors: atlas`` in ``pyproject.toml``).

>>> VENDOR.name, VENDOR.required_settings
('atlas', ('base_url', 'client_id', 'client_secret'))
"""

from ...vendors import VendorSpec

__all__ = ["VENDOR"]

VENDOR = VendorSpec(
    name="atlas",
    display_name="Atlas CRM",
    connector="crmql.connectors.atlas.connector:AtlasConnector",
    simulator="crmql.sandbox.atlas.spec:SIMULATOR",
    config_keys=("client_id", "client_secret"),
    docs=("shared/vendor-docs/atlas-crm.txt (Atlas CRM by Avisi, Jira app: REST API)",
          "shared/vendor-notes.md section 2"),
    rank=20,
    description="CRM in Jira: companies, contacts, sales, links",
)
