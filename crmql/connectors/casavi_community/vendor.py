"""casavi Community's registration: the one place crmql learns about this vendor (entry point
``crmql.vendors: casavi_community`` in ``pyproject.toml``).

>>> VENDOR.name, VENDOR.display_name, VENDOR.required_settings
('casavi_community', 'casavi Community', ('base_url',))
"""

from ...vendors import VendorSpec

__all__ = ["VENDOR"]

VENDOR = VendorSpec(
    name="casavi_community",
    display_name="casavi Community",
    connector="crmql.connectors.casavi_community.connector:CommunityConnector",
    simulator="crmql.sandbox.casavi_community.spec:SIMULATOR",
    # a refresh_token (renewed through OpenID Connect) or an access_token (used until refused): the
    # connection needs one of them, which the auth flow checks; client_id goes with the refresh token
    optional_keys=("client_id", "refresh_token", "access_token", "client_secret"),
    docs=("shared/vendor-docs/casavi-community-api.txt (Community API, ReDoc rendering, paths stripped)",
          "shared/vendor-notes.md section 4 (Community API), ambiguities 24-26"),
    rank=40,
    description="residents' app: tickets, appointments, posts, notifications, FAQ, unread counts per community",
)
