"""Voyzu CRM's registration: the one place crmql learns about this vendor (entry point
``crmql.vendors: voyzu`` in ``pyproject.toml``).

>>> VENDOR.name, VENDOR.display_name, VENDOR.required_settings
('voyzu', 'Voyzu CRM', ('base_url',))
"""

from ...vendors import VendorSpec

__all__ = ["VENDOR"]

VENDOR = VendorSpec(
    name="voyzu",
    display_name="Voyzu CRM",
    connector="crmql.connectors.voyzu.connector:VoyzuConnector",
    simulator="crmql.sandbox.voyzu.spec:SIMULATOR",
    # a session id (used until refused) and/or login_values (the AuthInput posted to /api/auth): the
    # connection needs one of them, which the connector checks
    optional_keys=("session_id", "login_values"),
    docs=("shared/vendor-docs/voyzu-crm.md (Voyzu API and front-end docs)",
          "shared/vendor-specs/voyzu/*.md", "shared/vendor-notes.md section 3 (Voyzu), ambiguities 16-20"),
    rank=50,
    description="contacts (persons and organizations, free-text search, async jobs) and Google spreadsheets",
)
