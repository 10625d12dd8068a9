"""Atlas CRM entity templates: built-in and custom fields of companies, contacts and sales.

Built-in fields have readable slug ids (``company-name``); custom fields have
UUID ids that are deterministic for the seed.  :func:`build_templates`
returns fresh, mutable :class:`Template` objects (the simulator mutates them
through its test hooks); :func:`custom_field_ids` gives the generator the id
of each custom field by an internal key.

Some labels are chosen to exercise a client's label -> column name
derivation: company ``"Region"`` and ``"region "`` slug to the same name,
contact ``"E-mail"`` collides with the built-in ``"Email"``, and company
``"Größe"`` (options ``Klein``/``Mittel``/``Groß``) is not ASCII.
"""

from __future__ import annotations

import copy
import logging
import random
from functools import lru_cache
from typing import Any, NamedTuple, Sequence

from .filter import ENTITY_TYPES, FIELD_TYPES
from ..core.data_util import make_rng

logger = logging.getLogger(__name__)

CUSTOM_SECTION = "Custom fields"


class FieldDef(NamedTuple):
    """Definition of one template field (``key`` names custom fields inside the sandbox)."""

    key: str
    label: str
    type: str
    section: str
    required: bool = False
    default: Any = None
    options: tuple[str, ...] = ()
    currency: str | None = None


def _b(key: str, label: str, ftype: str, section: str, **kw: Any) -> FieldDef:
    return FieldDef(key, label, ftype, section, **kw)


#: Built-in fields per entity type (``key`` is the field id).
BUILTIN: dict[str, tuple[FieldDef, ...]] = {
    "company": (
        _b("company-name", "Name", "string", "Company details", required=True),
        _b("company-website", "Website", "string", "Company details"),
        _b("company-industry", "Industry", "single-select", "Company details",
           options=("Software", "Manufacturing", "Finance", "Healthcare", "Retail", "Logistics",
                    "Energy", "Education", "Media", "Consulting")),
        _b("company-country", "Country", "string", "Company details"),
        _b("company-employees", "Employees", "decimal", "Company details"),
        _b("company-owner", "Owner", "user", "Company details"),
        _b("company-description", "Description", "text", "About"),
        _b("company-created", "Created", "timestamp", "About"),
    ),
    "contact": (
        _b("contact-name", "Name", "string", "Contact details", required=True),
        _b("contact-email", "Email", "string", "Contact details"),
        _b("contact-phone", "Phone", "string", "Contact details"),
        _b("contact-job-title", "Job title", "string", "Contact details"),
        _b("contact-birthday", "Birthday", "date", "Contact details"),
        _b("contact-owner", "Owner", "user", "Contact details"),
        _b("contact-notes", "Notes", "text", "About"),
        _b("contact-created", "Created", "timestamp", "About"),
    ),
    "sale": (
        _b("sale-name", "Name", "string", "Sale details", required=True),
        _b("sale-balance", "Balance", "decimal", "Sale details", currency="EUR"),
        _b("sale-currency", "Currency", "single-select", "Sale details", default="EUR",
           options=("EUR", "USD", "GBP")),
        _b("sale-status", "Status", "single-select", "Sale details", default="open",
           options=("open", "won", "lost")),
        _b("sale-close-date", "Close date", "date", "Sale details"),
        _b("sale-owner", "Owner", "user", "Sale details"),
        _b("sale-probability", "Probability", "decimal", "Sale details"),
        _b("sale-description", "Description", "text", "About"),
        _b("sale-created", "Created", "timestamp", "About"),
    ),
}

#: Custom fields per entity type (``key`` is internal; the API id is a seeded UUID).
CUSTOM: dict[str, tuple[FieldDef, ...]] = {
    "company": (
        _b("tier", "Account Tier", "single-select", CUSTOM_SECTION, options=("Gold", "Silver", "Bronze")),
        _b("region", "Region", "string", CUSTOM_SECTION),
        _b("region2", "region ", "string", CUSTOM_SECTION),
        _b("renewal", "Renewal Date", "date", CUSTOM_SECTION),
        _b("segments", "Segments", "multi-select", CUSTOM_SECTION,
           options=("Enterprise", "Mid-Market", "SMB", "Public Sector", "Non-Profit", "Start-up")),
        _b("arr", "ARR", "decimal", CUSTOM_SECTION, currency="EUR"),
        _b("last_contacted", "Last Contacted", "timestamp", CUSTOM_SECTION),
        _b("account_manager", "Account Manager", "user", CUSTOM_SECTION),
        _b("notes", "Notes", "text", CUSTOM_SECTION),
        _b("size", "Größe", "single-select", CUSTOM_SECTION, options=("Klein", "Mittel", "Groß")),
    ),
    "contact": (
        _b("lead_source", "Lead Source", "single-select", CUSTOM_SECTION,
           options=("Website", "Referral", "Event", "Cold Call", "Partner", "LinkedIn Ads")),
        _b("topics", "Newsletter Topics", "multi-select", CUSTOM_SECTION,
           options=("Product Updates", "Webinars", "Case Studies", "Tips & Tricks", "Events",
                    "Release Notes")),
        _b("linkedin", "LinkedIn", "string", CUSTOM_SECTION),
        _b("score", "Score", "decimal", CUSTOM_SECTION),
        _b("first_met", "First Met", "date", CUSTOM_SECTION),
        _b("last_login", "Last Login", "timestamp", CUSTOM_SECTION),
        _b("buddy", "Buddy", "user", CUSTOM_SECTION),
        _b("bio", "Bio", "text", CUSTOM_SECTION),
        _b("email2", "E-mail", "string", CUSTOM_SECTION),
    ),
    "sale": (
        _b("deal_type", "Deal Type", "single-select", CUSTOM_SECTION, options=("New", "Upsell", "Renewal")),
        _b("competitors", "Competitors", "multi-select", CUSTOM_SECTION,
           options=("Salesforce", "HubSpot", "Pipedrive", "Zoho CRM", "Dynamics 365", "Other")),
        _b("referral", "Referral Code", "string", CUSTOM_SECTION),
        _b("discount", "Discount %", "decimal", CUSTOM_SECTION),
        _b("contract_start", "Contract Start", "date", CUSTOM_SECTION),
        _b("last_activity", "Last Activity", "timestamp", CUSTOM_SECTION),
        _b("engineer", "Sales Engineer", "user", CUSTOM_SECTION),
        _b("loss_reason", "Loss Reason", "text", CUSTOM_SECTION),
    ),
}

#: The name field of each entity type (default sort order, required on create).
NAME_FIELD: dict[str, str] = {"company": "company-name", "contact": "contact-name", "sale": "sale-name"}


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``."""
    n = (rng.getrandbits(128) & _UUID_CLEAR) | _UUID_V4
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=64)
def _custom_ids(seed: int) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for entity_type, defs in CUSTOM.items():
        rng = make_rng(seed, "atlas", "template", entity_type)
        out[entity_type] = {d.key: new_uuid(rng) for d in defs}
    return out


def custom_field_ids(seed: int, entity_type: str) -> dict[str, str]:
    """Custom field key -> UUID field id of ``entity_type`` for ``seed``."""
    return dict(_custom_ids(seed)[entity_type])


def field_json(field_id: str, definition: FieldDef) -> dict[str, Any]:
    """A template field as the API shows it."""
    config: dict[str, Any] = {}
    if definition.options:
        config["options"] = [{"label": label} for label in definition.options]
    if definition.currency:
        config["currency"] = definition.currency
    return {"id": field_id, "label": definition.label, "type": definition.type,
            "default-value": definition.default, "config": config, "required": definition.required}


class Template:
    """The mutable template of one entity type: ordered sections of fields."""

    def __init__(self, entity_type: str, sections: list[dict[str, Any]]) -> None:
        self.entity_type = entity_type
        self.sections = sections
        self._types: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``GET /template/{type}`` response body (a deep copy)."""
        return {"sections": copy.deepcopy(self.sections)}

    def fields(self) -> list[dict[str, Any]]:
        """Every field, in section order."""
        return [f for section in self.sections for f in section["fields"]]

    def field(self, field_id: str) -> dict[str, Any] | None:
        """The field with ``field_id``, or None."""
        for f in self.fields():
            if f["id"] == field_id:
                return f
        return None

    def field_types(self) -> dict[str, str]:
        """Field id -> field type (cached until the template changes)."""
        if self._types is None:
            self._types = {f["id"]: f["type"] for f in self.fields()}
        return self._types

    def options(self, field_id: str) -> list[str]:
        """Option labels of a select field."""
        f = self.field(field_id)
        return [o["label"] for o in (f or {}).get("config", {}).get("options", [])]

    def required(self) -> list[str]:
        """Ids of required fields."""
        return [f["id"] for f in self.fields() if f["required"]]

    def add_field(self, field: dict[str, Any], section: str = CUSTOM_SECTION) -> None:
        """Append ``field`` to ``section`` (created at the end if missing)."""
        for sec in self.sections:
            if sec["name"] == section:
                sec["fields"].append(field)
                break
        else:
            self.sections.append({"name": section, "fields": [field]})
        self._types = None

    def remove_field(self, field_id: str) -> dict[str, Any]:
        """Remove and return a field; ``KeyError`` when unknown."""
        for sec in self.sections:
            for i, f in enumerate(sec["fields"]):
                if f["id"] == field_id:
                    del sec["fields"][i]
                    self._types = None
                    return f
        raise KeyError(f"unknown field {field_id!r} of {self.entity_type}")


def build_templates(seed: int) -> dict[str, Template]:
    """Fresh templates of every entity type for ``seed``."""
    out: dict[str, Template] = {}
    for entity_type in ENTITY_TYPES:
        ids = _custom_ids(seed)[entity_type]
        sections: list[dict[str, Any]] = []
        by_name: dict[str, dict[str, Any]] = {}
        entries: Sequence[tuple[str, FieldDef]] = (
            [(d.key, d) for d in BUILTIN[entity_type]] + [(ids[d.key], d) for d in CUSTOM[entity_type]]
        )
        for field_id, definition in entries:
            section = by_name.get(definition.section)
            if section is None:
                section = {"name": definition.section, "fields": []}
                by_name[definition.section] = section
                sections.append(section)
            section["fields"].append(field_json(field_id, definition))
        out[entity_type] = Template(entity_type, sections)
    return out


def check_field_type(field_type: str) -> None:
    """Raise ``ValueError`` for an unknown field type."""
    if field_type not in FIELD_TYPES:
        raise ValueError(f"unknown field type {field_type!r} (known: {', '.join(FIELD_TYPES)})")
