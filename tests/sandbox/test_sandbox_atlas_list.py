"""Atlas list endpoint: operators per field type, AND/OR, sorting, paging, variants, 400s, encoding."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx
import pytest

from crmql.sandbox import ALL_VARIANTS, SandboxServer, records
from crmql.sandbox.atlas.simulator import VARIANTS
from crmql.sandbox.atlas.filter import DEFAULT_OPERATOR, OPERATORS
from crmql.sandbox.atlas.words import OWNERS
from test_sandbox_atlas_support import (  # noqa: F401  (fixtures)
    CF, COMPANIES, CONTACTS, ENTITIES, ROWS, SALES, _atlas_http, _fresh_atlas, as_served, atlas, ids,
    list_all, listing, query_pairs, where,
)

Fields = dict[str, Any]


def _count(client: httpx.Client, params: Any) -> int:
    resp = listing(client, params)
    assert resp.status_code == 200, resp.text
    return resp.json()["total"]


def _all_ids(client: httpx.Client, params: Any) -> list[str]:
    items, _ = list_all(client, [*(params.items() if isinstance(params, dict) else params), ("limit", "100")])
    return ids(items)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_variants_constant_lists_every_switch() -> None:
    assert VARIANTS == {
        "atlas.eq_case": ("sensitive", "insensitive"),
        "atlas.contains_case": ("insensitive", "sensitive"),
        "atlas.multi_contains": ("label", "substring"),
        "atlas.page_param": ("limit", "ignored"),
        "atlas.sort_nulls": ("last", "first"),
        "atlas.list_fields": ("included", "omitted"),
    }
    assert all(ALL_VARIANTS[key] == values for key, values in VARIANTS.items())
    assert DEFAULT_OPERATOR == {"string": "eq", "text": "contains", "date": "eq", "timestamp": "eq",
                                "decimal": "eq", "user": "eq", "single-select": "eq",
                                "multi-select": "contains"}


# ------------------------------------------------------------------ paging
@pytest.mark.parametrize("entity_type", ["company", "contact", "sale"])
def test_first_page_default_order(server: SandboxServer, atlas: httpx.Client, entity_type: str) -> None:
    resp = listing(atlas, {"type": entity_type})
    assert resp.status_code == 200
    body = resp.json()
    rows = ROWS[entity_type]
    base = server.base_url("atlas")
    assert body["total"] == len(rows)
    assert body["items"] == [as_served(r, base) for r in rows[:20]]
    assert body["_links"]["self"]["href"] == f"{base}{ENTITIES}?type={entity_type}"
    nxt = body["_links"]["next"]["href"]
    assert nxt.startswith(f"{base}{ENTITIES}?")
    pairs = query_pairs(nxt)
    assert pairs[0] == ("type", entity_type) and pairs[-1][0] == "cursor"


def test_follow_next_until_absent(atlas: httpx.Client) -> None:
    items, responses = list_all(atlas, {"type": "company", "limit": 100})
    assert ids(items) == ids(COMPANIES)
    assert len(responses) == 10
    assert all(r.json()["total"] == 1000 for r in responses)
    assert "next" not in responses[-1].json()["_links"]
    # a filtered query with an odd page size: total equals the number of items seen
    params = [("type", "sale"), ("fields.sale-status", "lost"), ("fields.sale-balance[gte]", "100000"),
              ("limit", "7"), ("sort-by", "sale-close-date")]
    items, responses = list_all(atlas, params)
    assert len(items) == responses[0].json()["total"] == len(responses[-1].json()["items"]) + 7 * (len(responses) - 1)
    assert set(ids(items)) == set(where("sale", lambda f: f["sale-status"] == "lost"
                                        and f.get("sale-balance", -1) >= 100000))
    for resp in responses[1:]:  # the next href carries every original parameter plus the cursor
        pairs = query_pairs(str(resp.request.url))
        assert [p for p in pairs if p[0] != "cursor"] == params
        assert sum(p[0] == "cursor" for p in pairs) == 1


def test_last_page_exact_and_empty_result(atlas: httpx.Client) -> None:
    body = listing(atlas, {"type": "company", "limit": 100, "fields.company-name": "No such company"}).json()
    assert body == {"items": [], "total": 0, "_links": {"self": body["_links"]["self"]}}
    items, responses = list_all(atlas, {"type": "company", "limit": 50})
    assert len(responses) == 20 and len(items) == 1000 and len(responses[-1].json()["items"]) == 50


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "", "2.5"])
def test_limit_out_of_range_is_400(atlas: httpx.Client, limit: str) -> None:
    resp = listing(atlas, {"type": "contact", "limit": limit})
    assert resp.status_code == 400
    assert resp.json() == {"message": "limit must be between 1 and 100"}


def test_limit_bounds_and_page_param_variant(server: SandboxServer, atlas: httpx.Client) -> None:
    assert len(listing(atlas, {"type": "contact", "limit": 1}).json()["items"]) == 1
    assert len(listing(atlas, {"type": "contact", "limit": 100}).json()["items"]) == 100
    server.settings.variants = {"atlas.page_param": "ignored"}
    for limit in ("100", "5", "101", "abc"):
        body = listing(atlas, {"type": "contact", "limit": limit}).json()
        assert len(body["items"]) == 20 and body["total"] == 5000
    items, responses = list_all(atlas, {"type": "company", "limit": 100})
    assert len(responses) == 50 and ids(items) == ids(COMPANIES)


def test_list_fields_omitted_variant(server: SandboxServer, atlas: httpx.Client) -> None:
    server.settings.variants = {"atlas.list_fields": "omitted"}
    body = listing(atlas, {"type": "sale", "fields.sale-status": "won"}).json()
    assert body["items"] and all(set(item) == {"id", "type", "_links"} for item in body["items"])
    first = body["items"][0]
    full = atlas.get(first["_links"]["self"]["href"]).json()
    assert full["fields"]["sale-status"] == "won" and full["_links"] == first["_links"]


def test_bad_cursors_are_400(atlas: httpx.Client) -> None:
    assert listing(atlas, {"type": "sale", "cursor": "not-a-cursor"}).json() == {"message": "Invalid cursor"}
    nxt = listing(atlas, {"type": "sale"}).json()["_links"]["next"]["href"]
    cursor = dict(query_pairs(nxt))["cursor"]
    other = listing(atlas, {"type": "sale", "fields.sale-status": "won", "cursor": cursor})
    assert other.status_code == 400 and "Cursor" in other.json()["message"]
    same = listing(atlas, {"type": "sale", "cursor": cursor, "limit": 5})  # page size may change
    assert same.status_code == 200 and ids(same.json()["items"]) == ids(SALES[20:25])


# -------------------------------------------------------------- operators
OWNER_COLON = OWNERS[-1][0]  # "557058:<uuid>"
SAMPLE_NAME = CONTACTS[1234]["fields"]["contact-name"]
SAMPLE_DATE = SALES[100]["fields"].get("sale-close-date") or "2024-06-30"
SAMPLE_CREATED = SALES[200]["fields"]["sale-created"]
SAMPLE_BALANCE = next(f["sale-balance"] for f in (r["fields"] for r in SALES)
                      if isinstance(f.get("sale-balance"), float))
BALANCE_SAMPLE_TEXT = repr(SAMPLE_BALANCE)


def _ts_shift(text: str) -> str:
    """The same instant written with a +02:00 offset."""
    return _instant(text).astimezone(timezone(timedelta(hours=2))).isoformat(timespec="milliseconds")


#: (type, field id, operator or None for the default, value, reference predicate on fields)
CASES: list[tuple[str, str, str | None, str, Callable[[Fields], bool]]] = [
    # string
    ("contact", "contact-name", None, SAMPLE_NAME, lambda f: f["contact-name"] == SAMPLE_NAME),
    ("contact", "contact-name", "eq", SAMPLE_NAME, lambda f: f["contact-name"] == SAMPLE_NAME),
    ("contact", "contact-email", "contains", "gmail.com",
     lambda f: "gmail.com" in f.get("contact-email", "\0").casefold()),
    ("contact", "contact-email", "contains", "GMAIL.com",
     lambda f: "gmail.com" in f.get("contact-email", "\0").casefold()),
    ("company", CF["company"]["region"], "eq", "EMEA", lambda f: f.get(CF["company"]["region"]) == "EMEA"),
    ("sale", CF["sale"]["referral"], "contains", "+", lambda f: "+" in f.get(CF["sale"]["referral"], "")),
    # text
    ("company", "company-description", None, "cloud",
     lambda f: "cloud" in f.get("company-description", "").casefold()),
    ("sale", CF["sale"]["loss_reason"], "contains", "\nrevisit",
     lambda f: "\nrevisit" in f.get(CF["sale"]["loss_reason"], "").casefold()),
    # date
    ("sale", "sale-close-date", None, SAMPLE_DATE, lambda f: f.get("sale-close-date") == SAMPLE_DATE),
    ("sale", "sale-close-date", "gte", "2026-01-01", lambda f: f.get("sale-close-date", "0") >= "2026-01-01"),
    ("sale", "sale-close-date", "lte", "2023-03-31", lambda f: f.get("sale-close-date", "9") <= "2023-03-31"),
    ("contact", CF["contact"]["first_met"], "gte", "2025-01-01",
     lambda f: f.get(CF["contact"]["first_met"], "0") >= "2025-01-01"),
    # timestamp (instants, whatever the offset)
    ("sale", "sale-created", None, SAMPLE_CREATED, lambda f: f["sale-created"] == SAMPLE_CREATED),
    ("sale", "sale-created", "eq", _ts_shift(SAMPLE_CREATED), lambda f: f["sale-created"] == SAMPLE_CREATED),
    ("sale", "sale-created", "gte", "2025-06-01T02:00:00+02:00",
     lambda f: _instant(f["sale-created"]) >= datetime(2025, 6, 1, tzinfo=timezone.utc)),
    ("sale", "sale-created", "lte", "2023-01-01T00:00:00Z",
     lambda f: _instant(f["sale-created"]) <= datetime(2023, 1, 1, tzinfo=timezone.utc)),
    ("contact", CF["contact"]["last_login"], "gte", "2025-11-01T00:00:00",
     lambda f: CF["contact"]["last_login"] in f
     and _instant(f[CF["contact"]["last_login"]]) >= datetime(2025, 11, 1, tzinfo=timezone.utc)),
    # decimal
    ("sale", "sale-balance", None, BALANCE_SAMPLE_TEXT, lambda f: f.get("sale-balance") == SAMPLE_BALANCE),
    ("sale", "sale-balance", "eq", "49000.00", lambda f: f.get("sale-balance") == 49000),
    ("sale", "sale-balance", "gte", "200000", lambda f: f.get("sale-balance", -1) >= 200000),
    ("sale", "sale-balance", "lte", "0", lambda f: f.get("sale-balance", 1) <= 0),
    ("company", "company-employees", "gte", "1e3", lambda f: f.get("company-employees", -1) >= 1000),
    ("contact", CF["contact"]["score"], "lte", "10.5", lambda f: f.get(CF["contact"]["score"], 99) <= 10.5),
    # user
    ("sale", "sale-owner", None, OWNERS[0][0], lambda f: f.get("sale-owner") == OWNERS[0][0]),
    ("contact", CF["contact"]["buddy"], "eq", OWNER_COLON, lambda f: f.get(CF["contact"]["buddy"]) == OWNER_COLON),
    # single-select
    ("sale", "sale-status", None, "open", lambda f: f["sale-status"] == "open"),
    ("company", CF["company"]["size"], "eq", "Groß", lambda f: f.get(CF["company"]["size"]) == "Groß"),
    ("sale", "sale-status", "eq", "Purple", lambda f: False),
    # multi-select
    ("sale", CF["sale"]["competitors"], None, "HubSpot",
     lambda f: "HubSpot" in f.get(CF["sale"]["competitors"], [])),
    ("contact", CF["contact"]["topics"], "contains", "Tips & Tricks",
     lambda f: "Tips & Tricks" in f.get(CF["contact"]["topics"], [])),
    ("company", CF["company"]["segments"], "contains", "Mid-Market",
     lambda f: "Mid-Market" in f.get(CF["company"]["segments"], [])),
]


@pytest.mark.parametrize("entity_type,field_id,op,value,predicate", CASES,
                         ids=[f"{c[0]}.{c[1][:12]}[{c[2]}]={c[3][:16]!r}" for c in CASES])
def test_operator(atlas: httpx.Client, entity_type: str, field_id: str, op: str | None, value: str,
                  predicate: Callable[[Fields], bool]) -> None:
    key = f"fields.{field_id}" + (f"[{op}]" if op else "")
    expected = where(entity_type, predicate)
    got = _all_ids(atlas, {"type": entity_type, key: value})
    assert got == expected
    if field_id not in ("sale-status",) or value != "Purple":
        assert expected or value in ("0",), "the case should match something"


def test_every_type_has_a_case_and_default_operators_agree(atlas: httpx.Client) -> None:
    templates = {t: atlas.get(f"/api/1.0/workspace/CRM/template/{t}").json() for t in ROWS}
    types = {(t, f["id"]): f["type"] for t, tpl in templates.items()
             for s in tpl["sections"] for f in s["fields"]}
    covered = {types[(c[0], c[1])] for c in CASES}
    assert covered == set(OPERATORS)
    for (entity_type, field_id, op, value, _) in CASES:
        if op is None:
            explicit = f"fields.{field_id}[{DEFAULT_OPERATOR[types[(entity_type, field_id)]]}]"
            assert _count(atlas, {"type": entity_type, explicit: value}) == \
                _count(atlas, {"type": entity_type, f"fields.{field_id}": value})


def test_repeated_same_field_and_operator_is_or(atlas: httpx.Client) -> None:
    closed = [("type", "sale"), ("fields.sale-status", "won"), ("fields.sale-status", "lost")]
    assert _all_ids(atlas, closed) == where("sale", lambda f: f["sale-status"] in ("won", "lost"))
    # a bare parameter counts as the default operator: same group as [eq]
    mixed = [("type", "sale"), ("fields.sale-status", "won"), ("fields.sale-status[eq]", "lost")]
    assert _count(atlas, mixed) == len(where("sale", lambda f: f["sale-status"] in ("won", "lost")))
    mails = [("type", "contact"), ("fields.contact-email[contains]", "gmail"),
             ("fields.contact-email[contains]", "outlook")]
    assert _all_ids(atlas, mails) == where(
        "contact", lambda f: any(x in f.get("contact-email", "").casefold() for x in ("gmail", "outlook")))
    competitors = CF["sale"]["competitors"]
    either = [("type", "sale"), (f"fields.{competitors}", "Zoho CRM"), (f"fields.{competitors}", "Other")]
    assert _count(atlas, either) == len(where(
        "sale", lambda f: bool({"Zoho CRM", "Other"} & set(f.get(competitors, [])))))


def test_different_parameters_and_ranges_are_and(atlas: httpx.Client) -> None:
    doc_example = {"type": "sale", "fields.sale-balance[gte]": "500", "fields.sale-status": "open"}
    assert _all_ids(atlas, doc_example) == where(
        "sale", lambda f: f.get("sale-balance", -1) >= 500 and f["sale-status"] == "open")
    closed_range = {"type": "sale", "fields.sale-close-date[gte]": "2024-01-01",
                    "fields.sale-close-date[lte]": "2024-03-31"}
    assert _all_ids(atlas, closed_range) == where(
        "sale", lambda f: "2024-01-01" <= f.get("sale-close-date", "") <= "2024-03-31")
    # gte and lte are inclusive: [x, x] equals eq x
    point = {"type": "sale", "fields.sale-close-date[gte]": SAMPLE_DATE, "fields.sale-close-date[lte]": SAMPLE_DATE}
    assert _count(atlas, point) == _count(atlas, {"type": "sale", "fields.sale-close-date": SAMPLE_DATE}) > 0
    balance = {"type": "sale", "fields.sale-balance[gte]": BALANCE_SAMPLE_TEXT,
               "fields.sale-balance[lte]": BALANCE_SAMPLE_TEXT}
    assert _count(atlas, balance) >= 1
    created = {"type": "sale", "fields.sale-created[gte]": SAMPLE_CREATED, "fields.sale-created[lte]": SAMPLE_CREATED}
    assert _count(atlas, created) == 1
    # an entity without the field never matches, not even a range covering everything
    employees = {"type": "company", "fields.company-employees[gte]": "-1e9"}
    assert _count(atlas, employees) == sum("company-employees" in r["fields"] for r in COMPANIES) < 1000
    everything = {"type": "contact", "fields.contact-job-title[contains]": ""}
    assert _count(atlas, everything) == sum("contact-job-title" in r["fields"] for r in CONTACTS)


# ----------------------------------------------------------------- sorting
def _sorted_ids(entity_type: str, field_id: str, key: Callable[[Any], Any], nulls: str = "last",
                keep: Callable[[Fields], bool] = lambda f: True) -> list[str]:
    rows = [r for r in ROWS[entity_type] if keep(r["fields"])]
    present = sorted((r for r in rows if field_id in r["fields"]),
                     key=lambda r: (key(r["fields"][field_id]), r["id"]))
    missing = sorted((r for r in rows if field_id not in r["fields"]), key=lambda r: r["id"])
    return ids(missing + present if nulls == "first" else present + missing)


@pytest.mark.parametrize("nulls", VARIANTS["atlas.sort_nulls"])
def test_sort_by_and_nulls(server: SandboxServer, atlas: httpx.Client, nulls: str) -> None:
    server.settings.variants = {"atlas.sort_nulls": nulls}
    assert _all_ids(atlas, {"type": "sale", "sort-by": "sale-balance"}) == \
        _sorted_ids("sale", "sale-balance", float, nulls)
    deal_type = CF["sale"]["deal_type"]
    for entity_type, field_id, key, (filter_id, value) in (  # filtered: fewer pages to fetch
        ("sale", "sale-close-date", str, ("sale-currency", "GBP")),
        ("sale", CF["sale"]["last_activity"], _instant, (deal_type, "Upsell")),
        ("contact", "contact-email", str, ("contact-job-title", "CEO")),
        ("contact", "contact-created", _instant, ("contact-job-title", "CTO")),
        ("company", CF["company"]["segments"], tuple, ("company-industry", "Software")),
        ("company", CF["company"]["size"], str, ("company-industry", "Retail")),
    ):
        got = _all_ids(atlas, {"type": entity_type, "sort-by": field_id, f"fields.{filter_id}": value})
        expected = _sorted_ids(entity_type, field_id, key, nulls, lambda f: f.get(filter_id) == value)
        assert got == expected and len(expected) > 20, (field_id, nulls)
    # sort-by combines with filters and paging
    params = {"type": "sale", "sort-by": "sale-balance", "fields.sale-status": "won", "limit": 3}
    items = listing(atlas, params).json()["items"]
    status = {r["id"]: r["fields"]["sale-status"] for r in SALES}
    won = [i for i in _sorted_ids("sale", "sale-balance", float, nulls) if status[i] == "won"]
    assert ids(items) == won[:3]


def test_unknown_sort_field_is_400(atlas: httpx.Client) -> None:
    resp = listing(atlas, {"type": "sale", "sort-by": "contact-name"})
    assert resp.status_code == 400
    assert resp.json() == {"message": "Unknown sort field 'contact-name' for entity type 'sale'"}


# ---------------------------------------------------------------- variants
@pytest.mark.parametrize("eq_case", VARIANTS["atlas.eq_case"])
def test_eq_case_variant(server: SandboxServer, atlas: httpx.Client, eq_case: str) -> None:
    server.settings.variants = {"atlas.eq_case": eq_case}
    insensitive = eq_case == "insensitive"
    exact = len(where("contact", lambda f: f["contact-name"] == SAMPLE_NAME))
    folded = len(where("contact", lambda f: f["contact-name"].casefold() == SAMPLE_NAME.casefold()))
    assert _count(atlas, {"type": "contact", "fields.contact-name": SAMPLE_NAME.upper()}) == (folded if insensitive else 0)
    assert _count(atlas, {"type": "contact", "fields.contact-name": SAMPLE_NAME}) == (folded if insensitive else exact)
    opened = len(where("sale", lambda f: f["sale-status"] == "open"))
    assert _count(atlas, {"type": "sale", "fields.sale-status": "OPEN"}) == (opened if insensitive else 0)
    owner = OWNERS[0][0]
    owned = len(where("sale", lambda f: f.get("sale-owner") == owner))
    assert _count(atlas, {"type": "sale", "fields.sale-owner": owner.upper()}) == (owned if insensitive else 0)
    region = CF["company"]["region"]
    emea = len(where("company", lambda f: f.get(region) == "EMEA"))
    any_case = len(where("company", lambda f: f.get(region, "").casefold() == "emea"))
    assert emea < any_case  # the data has "emea" too
    assert _count(atlas, {"type": "company", f"fields.{region}": "EMEA"}) == (any_case if insensitive else emea)


@pytest.mark.parametrize("contains_case", VARIANTS["atlas.contains_case"])
def test_contains_case_variant(server: SandboxServer, atlas: httpx.Client, contains_case: str) -> None:
    server.settings.variants = {"atlas.contains_case": contains_case}
    sensitive = contains_case == "sensitive"
    for needle in ("Müller", "müller", "GMAIL", "Cloud"):
        for entity_type, field_id in (("contact", "contact-email"), ("contact", "contact-name"),
                                      ("company", "company-description")):
            if sensitive:
                expected = where(entity_type, lambda f: needle in f.get(field_id, "\0"))
            else:
                expected = where(entity_type, lambda f: needle.casefold() in f.get(field_id, "\0").casefold())
            got = _count(atlas, {"type": entity_type, f"fields.{field_id}[contains]": needle})
            assert got == len(expected), (needle, field_id, contains_case)
    assert any("GMAIL" in r["fields"].get("contact-email", "") for r in CONTACTS)


@pytest.mark.parametrize("multi", VARIANTS["atlas.multi_contains"])
@pytest.mark.parametrize("contains_case", VARIANTS["atlas.contains_case"])
def test_multi_contains_variant(server: SandboxServer, atlas: httpx.Client, multi: str, contains_case: str) -> None:
    server.settings.variants = {"atlas.multi_contains": multi, "atlas.contains_case": contains_case}
    field_id = CF["sale"]["competitors"]
    for needle in ("HubSpot", "Hub", "hubspot", "o", "Dynamics 365"):
        if multi == "label":
            expected = where("sale", lambda f: needle in f.get(field_id, []))
        elif contains_case == "sensitive":
            expected = where("sale", lambda f: any(needle in x for x in f.get(field_id, [])))
        else:
            expected = where("sale", lambda f: any(needle.casefold() in x.casefold() for x in f.get(field_id, [])))
        assert _count(atlas, {"type": "sale", f"fields.{field_id}": needle}) == len(expected), (needle, multi)
    hub = _count(atlas, {"type": "sale", f"fields.{field_id}": "Hub"})
    assert (hub == 0) == (multi == "label")


def test_misconfigured_variant_is_500(server: SandboxServer, atlas: httpx.Client) -> None:
    server.settings.variants["atlas.eq_case"] = "sideways"
    resp = listing(atlas, {"type": "sale"})
    assert resp.status_code == 500 and "sideways" in resp.json()["message"]


# ------------------------------------------------------------------ errors
BAD = [
    ({"fields.sale-status[gte]": "open"}, "Operator 'gte' is not allowed on field 'sale-status' (single-select)"),
    ({"fields.sale-name[gte]": "a"}, "Operator 'gte' is not allowed on field 'sale-name' (string)"),
    ({"fields.sale-description[eq]": "a"}, "Operator 'eq' is not allowed on field 'sale-description' (text)"),
    ({"fields.sale-owner[contains]": "5b"}, "Operator 'contains' is not allowed on field 'sale-owner' (user)"),
    ({"fields.sale-balance[contains]": "5"}, "Operator 'contains' is not allowed on field 'sale-balance' (decimal)"),
    ({f"fields.{CF['sale']['competitors']}[eq]": "Other"}, "is not allowed on field"),
    ({"fields.sale-balance[gt]": "5"}, "Unknown operator 'gt' on field 'sale-balance'"),
    ({"fields.sale-nope": "5"}, "Unknown field 'sale-nope' for entity type 'sale'"),
    ({"fields.contact-name": "x"}, "Unknown field 'contact-name' for entity type 'sale'"),
    ({"fields.sale-close-date": "2024/01/01"}, "Invalid value for field 'sale-close-date' (date): expected yyyy-mm-dd"),
    ({"fields.sale-close-date[gte]": "2024-02-30"}, "expected yyyy-mm-dd"),
    ({"fields.sale-close-date[gte]": "2024-01-01T00:00:00Z"}, "expected yyyy-mm-dd"),
    ({"fields.sale-balance[gte]": "five"}, "Invalid value for field 'sale-balance' (decimal): expected a number"),
    ({"fields.sale-balance": "1,5"}, "expected a number"),
    ({"fields.sale-balance": "NaN"}, "expected a number"),
    ({"fields.sale-created[gte]": "yesterday"}, "Invalid value for field 'sale-created' (timestamp): expected an ISO-8601"),
    ({"fields.sale-created": "2024-01-01"}, "expected an ISO-8601"),
    ({"fields.sale-created": "2024-13-01T00:00:00Z"}, "expected an ISO-8601"),
    ({"fields.sale-status[": "open"}, "Malformed filter parameter"),
]


@pytest.mark.parametrize("params,message", BAD, ids=[next(iter(p)) for p, _ in BAD])
def test_invalid_filters_are_400(atlas: httpx.Client, params: dict, message: str) -> None:
    resp = listing(atlas, {"type": "sale", **params})
    assert resp.status_code == 400, resp.text
    assert set(resp.json()) == {"message"} and message in resp.json()["message"], resp.json()


def test_type_required_and_known(atlas: httpx.Client) -> None:
    missing = atlas.get(ENTITIES)
    assert missing.status_code == 400 and "'type' is required" in missing.json()["message"]
    unknown = listing(atlas, {"type": "deal"})
    assert unknown.status_code == 400 and unknown.json() == {
        "message": "Unknown entity type 'deal' (expected company, contact or sale)"}


def test_unknown_parameters_are_ignored(atlas: httpx.Client) -> None:
    assert _count(atlas, {"type": "sale", "order": "desc", "page": "3"}) == len(SALES)


# ---------------------------------------------------------------- encoding
HOSTILE = ["a&b=c", "[x]", "100%", "1+1", "O'Reilly", 'say "hi"', "Müller & Söhne", "two  spaces ",
           "x%20y", "#hash?q=1", "semi;colon", "fields.sale-name[eq]=x", "ü", "emoji 🚀"]


def test_hostile_values_round_trip(atlas: httpx.Client) -> None:
    created = {}
    for value in HOSTILE:
        resp = atlas.post(ENTITIES, json={"type": "contact", "fields": {"contact-name": value,
                                                                          "contact-notes": f"note {value}"}})
        assert resp.status_code == 201, resp.text
        created[value] = resp.json()["id"]
    for value, entity_id in created.items():
        body = listing(atlas, {"type": "contact", "fields.contact-name": value}).json()
        assert [i["id"] for i in body["items"]] == [entity_id], value
        assert body["items"][0]["fields"]["contact-name"] == value
        notes = listing(atlas, {"type": "contact", "fields.contact-notes": f"note {value}"}).json()
        assert [i["id"] for i in notes["items"]] == [entity_id], value
    # follow a next href built from hostile parameters
    params = [("type", "contact"), ("limit", "1")] + [("fields.contact-name", v) for v in HOSTILE]
    items, responses = list_all(atlas, params)
    assert sorted(ids(items)) == sorted(created.values()) and len(responses) == len(HOSTILE)


def test_generated_hostile_values(atlas: httpx.Client) -> None:
    referral = CF["sale"]["referral"]
    values = {r["fields"][referral] for r in SALES if referral in r["fields"]}
    assert {"Q4+EMEA", "R&D-2024", "PARTNER=GOLD", "50% OFF", "[BETA]", 'say "hi"'} <= values
    for value in sorted(values):
        expected = where("sale", lambda f: f.get(referral) == value)
        assert _all_ids(atlas, {"type": "sale", f"fields.{referral}": value}) == expected, value
    ampersand = [r for r in COMPANIES if "&" in r["fields"]["company-name"]]
    assert ampersand
    name = ampersand[0]["fields"]["company-name"]
    assert _count(atlas, {"type": "company", "fields.company-name": name}) >= 1


def test_writes_invalidate_the_filter_cache(atlas: httpx.Client) -> None:
    params = {"type": "sale", "fields.sale-status": "won", "limit": 100}
    before = listing(atlas, params).json()["total"]
    target = next(r for r in SALES if r["fields"]["sale-status"] == "open")
    assert atlas.put(f"{ENTITIES}/{target['id']}", json={"fields": {"sale-status": "won"}}).status_code == 200
    assert listing(atlas, params).json()["total"] == before + 1
    assert atlas.delete(f"{ENTITIES}/{target['id']}").status_code == 200
    assert listing(atlas, params).json()["total"] == before
    # writes never leak into the generated records
    assert target in records("atlas", "sales") and target["fields"]["sale-status"] == "open"


def test_seed_switch_on_running_server(server: SandboxServer, atlas: httpx.Client) -> None:
    server.settings.seed = 7
    body = listing(atlas, {"type": "company", "limit": 3}).json()
    other = records("atlas", "companies", 7)
    assert ids(body["items"]) == ids(other[:3]) and ids(other[:3]) != ids(COMPANIES[:3])
