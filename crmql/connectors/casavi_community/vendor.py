"""casavi Community's registration: the one place crmql learns about this vendor (entry point
``crmql.vendors: casavi_community`` in ``pyproject.toml``).

>>> VENDOR.name, VENDOR.display_name, VENDOR.config_keys
('casavi_community', 'casavi Community', ('client_id', 'refresh_token'))
"""

from ...vendors import VendorSpec

__all__ = ["VENDOR"]

VENDOR = VendorSpec(
    name="casavi_community",
    display_name="casavi Community",
    connector="crmql.connectors.casavi_community.connector:CommunityConnector",
    simulator="crmql.sandbox.casavi_community.spec:SIMULATOR",
    config_keys=("client_id", "refresh_token"),
    docs=("shared/vendor-docs/casavi-community-api.txt (Community API, ReDoc rendering, paths stripped)",
          "shared/vendor-notes.md section 4 (Community API), ambiguities 24-26"),
    rank=40,
    description="residents' app: tickets, appointments, posts, notifications, FAQ, unread counts per community",
)
