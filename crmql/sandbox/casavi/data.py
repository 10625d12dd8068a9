"""The casavi simulator's data as the API serves it: :data:`GENERATORS` for the sandbox core
(``crmql sandbox dump casavi.<table>`` prints exactly what the API returns, under the default
readings), the served view of a record under each reading (:func:`served`, :func:`served_table`),
and the internal records the filters read (:func:`internal_records`).

The internal form (:mod:`.world`) carries ``_modifiedAt``, ``_roles`` and ``_allContracts``;
every key starting with ``_`` is dropped from what is served. Two readings change a served record:
``casavi.postal_code=number`` (a property's top-level ``postalCode`` as a JSON number, as the
doc's PropertyImport example sends it: vendor-notes ambiguity 23; ``01067`` becomes ``1067``)
and ``includeInactiveContracts=true`` on units (``contracts`` holds the ended ones too).

``contracts`` and ``responsibilities`` are no API resources: they are the nested arrays of
contacts and properties, one row per element with its parent's id (``contactId``,
``propertyId``) first, as crmql's child tables read them.

>>> rec = served_table(42, "properties", postal_number=True)[0]
>>> isinstance(rec["postalCode"], int), any(k.startswith("_") for k in rec)
(True, False)
>>> sorted(t for _, t in GENERATORS)
['contacts', 'contracts', 'properties', 'responsibilities', 'units']
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from .world import world

__all__ = ["GENERATORS", "TABLES", "internal_records", "served", "served_table"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Lookup = Callable[[str], list[Record]]
#: the API's list resources
TABLES = ("contacts", "properties", "units")


def internal_records(table: str, seed: int = 42) -> list[Record]:
    """The records of ``table`` in internal form, in list order (shared: do not mutate).

    >>> sorted(k for k in internal_records("units")[0] if k.startswith("_"))
    ['_allContracts', '_modifiedAt']
    """
    return world(seed).table(table)


def served(record: Record, *, postal_number: bool = False, include_inactive: bool = False) -> Record:
    """What the API serves for one internal record (a new dict; nested values are shared).

    >>> served({"id": "x", "_roles": frozenset(), "postalCode": "01067", "units": []}, postal_number=True)
    {'id': 'x', 'postalCode': 1067, 'units': []}
    """
    out = {k: v for k, v in record.items() if not k.startswith("_")}
    if include_inactive and "_allContracts" in record:
        out["contracts"] = record["_allContracts"]
    if postal_number and "units" in record:  # a property
        code = out.get("postalCode")
        if isinstance(code, str) and code.isdigit():
            out["postalCode"] = int(code)
    return out


_lock = threading.Lock()
_views: dict[tuple[int, str, bool, bool], list[Record]] = {}


def served_table(seed: int, table: str, *, postal_number: bool = False, include_inactive: bool = False) -> list[Record]:
    """Every record of ``table`` as served under the readings, in list order (cached; do not mutate)."""
    postal_number = postal_number and table == "properties"
    include_inactive = include_inactive and table == "units"
    key = (seed, table, postal_number, include_inactive)
    with _lock:
        rows = _views.get(key)
    if rows is None:
        rows = [served(r, postal_number=postal_number, include_inactive=include_inactive)
                for r in internal_records(table, seed)]
        with _lock:
            rows = _views.setdefault(key, rows)
            while len(_views) > 24:
                _views.pop(next(iter(_views)))
    return rows


def _api_table(table: str) -> Callable[[int, Lookup], list[Record]]:
    def generate(seed: int, lookup: Lookup) -> list[Record]:
        return served_table(seed, table)
    generate.__doc__ = f"casavi {table} as the API serves them (default readings)."
    return generate


def _contracts(seed: int, lookup: Lookup) -> list[Record]:
    """Every contact's contracts, one row each: ``{contactId, type, propertyId, unitId, startDate, endDate}``."""
    return [{"contactId": c["id"], **k} for c in lookup("contacts") for k in c["contracts"]]


def _responsibilities(seed: int, lookup: Lookup) -> list[Record]:
    """Every property's responsibilities, one row each, ``propertyId`` first."""
    return [{"propertyId": p["id"], **r} for p in lookup("properties") for r in p["responsibilities"]]


GENERATORS: dict[tuple[str, str], Callable[[int, Lookup], list[Record]]] = {
    **{("casavi", t): _api_table(t) for t in TABLES},
    ("casavi", "contracts"): _contracts,
    ("casavi", "responsibilities"): _responsibilities,
}
