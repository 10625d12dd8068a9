"""Atlas CRM simulator data: the live store of one seed and the validation of written values.

:class:`AtlasStore` holds the templates, entities and links a seed starts from (copy-on-write
over the generated records); :func:`_apply` validates a request's field values against a
template (:func:`_check_value`) before an entity is created or updated.  :class:`ApiError` is the
``{"message": ...}`` error every handler raises.  See :mod:`crmql.sandbox.atlas.simulator` for the
documented behaviour and our reading of the undocumented parts.
"""

from __future__ import annotations

import gc
import json
import logging
from datetime import timezone
from typing import Any, Mapping

from starlette.responses import JSONResponse

from .filter import is_number, parse_date, parse_timestamp
from .template import Template, build_templates, new_uuid
from ..core.data import shared_records
from ..core.data_util import make_rng, utc_ms
from ..core.state import json_error

__all__ = ["VENDOR_NAME", "TABLE_OF_TYPE", "ApiError", "AtlasStore"]

logger = logging.getLogger(__name__)

VENDOR_NAME = "atlas"
TABLE_OF_TYPE = {"company": "companies", "contact": "contacts", "sale": "sales"}

Entity = dict[str, Any]


class ApiError(Exception):
    """An error response ``{"message": ...}`` with a status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _message(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return json_error(status, {"message": message}, headers=headers)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class AtlasStore:
    """The live (mutable) data of one seed: templates, entities and links.

    Copy-on-write: an entity's ``fields`` dict and a link's roles list start out
    shared with the generated records and are only ever replaced, never mutated.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.templates: dict[str, Template] = build_templates(seed)
        self.entities: dict[str, Entity] = {}
        self.by_type: dict[str, dict[str, Entity]] = {}
        for entity_type, table in TABLE_OF_TYPE.items():
            bucket = {row["id"]: {"id": row["id"], "type": row["type"], "fields": row["fields"]}
                      for row in shared_records(VENDOR_NAME, table, seed)}
            self.by_type[entity_type] = bucket
            self.entities.update(bucket)
        self._links: dict[str, dict[str, list[str]]] | None = None
        self.rng = make_rng(seed, "atlas", "store")

    @property
    def links(self) -> dict[str, dict[str, list[str]]]:
        """Entity id -> linked entity id -> roles (both directions; built on first use)."""
        if self._links is None:
            links: dict[str, dict[str, list[str]]] = {}
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                for row in shared_records(VENDOR_NAME, "links", self.seed):
                    other = links.get(row["entity_id"])
                    if other is None:
                        other = links[row["entity_id"]] = {}
                    other[row["other_entity_id"]] = row["roles"]
            finally:
                if was_enabled:
                    gc.enable()
            self._links = links
        return self._links

    def new_id(self) -> str:
        """A fresh entity or field id (UUID, deterministic per store)."""
        while True:
            candidate = new_uuid(self.rng)
            if candidate not in self.entities:
                return candidate

    def link(self, a: str, b: str, roles: list[str]) -> None:
        """Create or replace the symmetric link between ``a`` and ``b``."""
        self.links.setdefault(a, {})[b] = list(roles)
        self.links.setdefault(b, {})[a] = list(roles)

    def unlink(self, a: str, b: str) -> None:
        """Remove the link between ``a`` and ``b`` (both directions)."""
        self.links.get(a, {}).pop(b, None)
        self.links.get(b, {}).pop(a, None)


# ------------------------------------------------------------------ writes
def _roles(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ApiError(400, "'roles' must be an array of strings")
    return list(dict.fromkeys(value))


def _check_value(template: Template, field: dict[str, Any], value: Any) -> Any:
    """Validate a written value for ``field``; return the value to store (None: remove)."""
    field_id, ftype = field["id"], field["type"]

    def bad(expected: str) -> ApiError:
        return ApiError(400, f"Invalid value for field '{field_id}' ({ftype}): expected {expected}, "
                             f"got {_json_text(value)}")

    if value is None:
        return None
    if ftype in ("string", "text"):
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if ftype == "user":
        if not isinstance(value, str) or not value:
            raise bad("an Atlassian account id")
        return value
    if ftype == "date":
        if parse_date(value) is None:
            raise bad("a date yyyy-mm-dd")
        return value
    if ftype == "timestamp":
        instant = parse_timestamp(value)
        if instant is None:
            raise bad("an ISO-8601 date-time")
        return utc_ms(instant.astimezone(timezone.utc))
    if ftype == "decimal":
        if not is_number(value):
            raise bad("a number")
        return value
    options = template.options(field_id)
    if ftype == "single-select":
        if not isinstance(value, str) or value not in options:
            raise ApiError(400, f"Invalid option {_json_text(value)} for field '{field_id}' "
                                f"(single-select); options: {', '.join(options)}")
        return value
    # multi-select
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad("an array of option labels")
    for label in value:
        if label not in options:
            raise ApiError(400, f"Invalid option {_json_text(label)} for field '{field_id}' "
                                f"(multi-select); options: {', '.join(options)}")
    return list(dict.fromkeys(value)) or None


def _apply(template: Template, fields: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Validate ``values`` against ``template`` and write them into ``fields`` (None removes)."""
    for field_id, value in values.items():
        field = template.field(field_id)
        if field is None:
            raise ApiError(400, f"Unknown field '{field_id}' for entity type '{template.entity_type}'")
        stored = _check_value(template, field, value)
        if stored is None:
            fields.pop(field_id, None)
        else:
            fields[field_id] = stored
