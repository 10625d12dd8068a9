"""The casavi connector without a request: declarations, settings, plans (what each WHERE sends),
custom-field naming, typing and conversion, and records flattened into rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crmql import vendors as registry
from crmql.connectors.casavi import custom_fields as cf
from crmql.connectors.casavi.connector import BASE_URL, CasaviConnector, postal_code, render_time
from crmql.connectors.registry import create_connector
from crmql.errors import ConfigError, QueryError, VendorResponseError
from crmql.language.parser import parse
from crmql.plan.bind import bind
from crmql.plan.catalog import ColumnType
from crmql.plan.connector import Mode
from crmql.plan.planner import Plan, plan_query

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
SETTINGS = {"base_url": "http://127.0.0.1:9", "key": "k-test", "secret": "s-test"}


def connector(**settings: Any) -> CasaviConnector:
    return CasaviConnector("casavi", {**SETTINGS, **settings})


def plan(query: str, c: CasaviConnector | None = None) -> Plan:
    c = c or connector()
    bound = bind(parse(query), lambda _conn, t: c.table(t), {}, now=NOW, text=query)
    return plan_query(bound, {"casavi": c})


def sent(query: str, c: CasaviConnector | None = None) -> list[str]:
    return [r.render() for r in plan(query, c).scans[0].fetch.requests]


# ---------------------------------------------------------------- declarations and settings

def test_the_tables_and_their_columns_are_the_vendors_names() -> None:
    tables = connector().tables()
    assert sorted(tables) == ["contacts", "contracts", "properties", "responsibilities", "units"]
    contacts = tables["contacts"].column_names
    assert contacts[:4] == ["id", "internalId", "title", "salutation"]
    assert {"isRegistered", "isInvited", "appLink", "customFields", "modifiedAfter", "role"} <= set(contacts)
    assert "contracts" not in contacts
    assert tables["contracts"].column_names == ["contactId", "type", "propertyId", "unitId", "startDate", "endDate"]
    assert tables["units"].column("contactIds").type is ColumnType.LIST
    assert tables["properties"].column("addresses").type is ColumnType.LIST
    assert "street" in tables["properties"].column("addresses").description
    assert tables["units"].column("includeInactiveContracts").type is ColumnType.BOOLEAN
    assert tables["responsibilities"].column_names[0] == "propertyId"


def test_a_connection_without_base_url_goes_to_the_real_api(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CasaviConnector("c", {"key": "k", "secret": "s"}).settings["base_url"] == BASE_URL
    if "casavi" not in registry.vendors():  # until the entry point is installed
        from crmql.connectors.casavi.vendor import VENDOR
        monkeypatch.setattr(registry, "_registry", {**registry.vendors(), "casavi": VENDOR})
    made = create_connector("mine", "casavi", {"key": "k", "secret": "s"})
    assert made.settings["base_url"] == BASE_URL
    assert create_connector("mine", "casavi", {"key": "k", "secret": "s", "base_url": "http://h:1"}).settings[
        "base_url"] == "http://h:1"
    with pytest.raises(ConfigError, match="missing secret"):
        create_connector("mine", "casavi", {"key": "k"})


def test_the_refresh_path_is_the_chosen_sibling_unless_configured() -> None:
    auth = connector().make_auth()
    assert (auth.path, auth.refresh_path, auth.header) == ("/v2/authenticate", "/v2/authenticate/refresh", "token")
    assert connector(refresh_path="/v2/refresh").make_auth().refresh_path == "/v2/refresh"
    assert not connector(refresh_path="").make_auth().refresh_path  # "": no refresh, authenticate again


def test_the_page_size_and_its_parameter_come_from_the_settings() -> None:
    assert sent("SELECT id FROM casavi.contacts") == ["GET /v2/contacts?limit=100"]
    c = connector(page_size=500, page_size_param="pageSize")
    assert sent("SELECT id FROM casavi.contacts", c) == ["GET /v2/contacts?pageSize=500"]
    with pytest.raises(ConfigError, match="role.*paging parameter"):
        connector(page_size_param="role")


def test_a_bad_custom_fields_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no table 'contact'"):
        connector(custom_fields={"contact": {"X": "string"}})
    with pytest.raises(ConfigError, match="'X' has type 'bolean', not one of"):
        connector(custom_fields={"contacts": {"X": "bolean"}})


# ---------------------------------------------------------------- what a WHERE sends

def test_the_flags_are_sent_lower_case_and_always_re_checked() -> None:
    for value in ("TRUE", "FALSE"):
        p = plan(f"SELECT id FROM casavi.contacts WHERE isRegistered = {value} AND isInvited = TRUE")
        assert p.scans[0].fetch.requests[0].render() == (
            f"GET /v2/contacts?isRegistered={value.lower()}&isInvited=true&limit=100")
        assert [exact for _, exact in p.scans[0].pushed] == [False, False]
    assert connector().table("contacts").column("isRegistered").filters[0].describe() == \
        "= (superset; re-checked locally)"


def test_a_superset_flag_never_stops_a_limit_early() -> None:
    fetch = plan("SELECT id FROM casavi.contacts WHERE isRegistered = FALSE LIMIT 5").scans[0].fetch
    assert fetch.max_rows is None and fetch.stop_early  # pages of 100, stopping once 5 rows pass locally
    fetch = plan("SELECT id FROM casavi.contacts LIMIT 5").scans[0].fetch
    assert fetch.max_rows == 5 and fetch.requests[0].render() == "GET /v2/contacts?limit=5"


def test_modified_after_is_sent_in_casavis_own_time_format() -> None:
    assert sent("SELECT id FROM casavi.contacts WHERE modifiedAfter = TIMESTAMP '2026-11-01'") == [
        "GET /v2/contacts?limit=100&modifiedAfter=2026-11-01T00%3A00%3A00.000Z"]
    assert sent("SELECT id FROM casavi.properties WHERE modifiedAfter = TIMESTAMP '2026-11-01 10:30:05.123456+02:00'") == [
        "GET /v2/properties?limit=100&modifiedAfter=2026-11-01T08%3A30%3A05.123Z"]
    assert render_time(dt.date(2026, 1, 2)) == "2026-01-02T00:00:00.000Z"
    with pytest.raises(QueryError, match="can only be compared with ="):
        plan("SELECT id FROM casavi.contacts WHERE modifiedAfter > TIMESTAMP '2026-11-01'")


def test_role_and_include_inactive_contracts_are_filter_only() -> None:
    assert sent("SELECT id FROM casavi.contacts WHERE role = 'OWNER'") == ["GET /v2/contacts?limit=100&role=OWNER"]
    assert sent("SELECT id FROM casavi.units WHERE includeInactiveContracts = TRUE") == [
        "GET /v2/units?limit=100&includeInactiveContracts=true"]
    described = connector().table("contacts").column("role").description
    assert "filter-only" in described and "not re-checkable" in described


def test_ids_are_read_by_id_or_found_by_a_scan_never_sent_as_a_list_filter() -> None:
    p = plan("SELECT id FROM casavi.contacts WHERE id IN ('C-1', 'Müller #2')")
    assert p.scans[0].fetch.mode is Mode.GET
    assert [r.render() for r in p.scans[0].fetch.requests] == ["GET /v2/contacts/C-1", "GET /v2/contacts/M%C3%BCller%20%232"]
    for where in ("id = 'a/b'", "id IN (" + ", ".join(f"'C-{n}'" for n in range(51)) + ")"):
        p = plan(f"SELECT id FROM casavi.contacts WHERE {where}")
        assert p.scans[0].fetch.mode is Mode.SEARCH
        assert [r.render() for r in p.scans[0].fetch.requests] == ["GET /v2/contacts?limit=100"]
        assert p.scans[0].residual  # checked locally


def test_the_child_tables_read_their_parents_lists() -> None:
    assert sent("SELECT contactId FROM casavi.contracts WHERE type = 'RENTER'") == ["GET /v2/contacts?limit=100"]
    assert sent("SELECT roleName FROM casavi.responsibilities LIMIT 3") == ["GET /v2/properties?limit=100"]


# ---------------------------------------------------------------- custom fields: naming, typing, values

def test_custom_fields_are_typed_from_the_sample_and_the_setting_wins() -> None:
    sample = [{"customFields": {"Newsletter": True, "Baujahr": 1972, "Wohnfläche": 85.1, "Geburtsdatum": "1961-04-02",
                                "Letzte Begehung": "2026-03-01T09:30:00.000Z", "Kundennummer": "K-1"}},
              {"customFields": {"Baujahr": 2001, "Wohnfläche": 90, "Mixed": 1}}, {"customFields": None},
              {"customFields": {"Mixed": "x", "Email": "a@b.de"}}]
    got = {column: (field, t.value) for column, field, t in cf.custom_columns(
        sample, {"id", "email"}, {"Kundennummer": ColumnType.INTEGER, "Sonderkündigungsrecht": ColumnType.BOOLEAN})}
    assert got == {
        "Newsletter": ("Newsletter", "boolean"), "Baujahr": ("Baujahr", "integer"), "Wohnfläche": ("Wohnfläche", "float"),
        "Geburtsdatum": ("Geburtsdatum", "date"), "Letzte Begehung": ("Letzte Begehung", "timestamp"),
        "Kundennummer": ("Kundennummer", "integer"), "Sonderkündigungsrecht": ("Sonderkündigungsrecht", "boolean"),
        "Mixed": ("Mixed", "string"), "Email (custom)": ("Email", "string")}
    sample = [{"customFields": {"Big": 2**64, "Small": 1, "Day": "2026-03-01", " ": "x"}},
              {"customFields": {"Big": 1, "Small": -(2**63), "Day": "2026-03-01T23:30:00-05:00"}}]
    got = {column: (field, t.value) for column, field, t in cf.custom_columns(sample, set(), {})}
    assert got == {"Big": ("Big", "string"), "Small": ("Small", "integer"), "Day": ("Day", "string"),
                   cf.UNNAMED: (" ", "string")}


@pytest.mark.parametrize("value, column_type, expected", [
    (True, ColumnType.BOOLEAN, True), (3, ColumnType.INTEGER, 3), (3.0, ColumnType.INTEGER, 3),
    (3, ColumnType.FLOAT, 3.0), ("2026-03-01", ColumnType.DATE, dt.date(2026, 3, 1)),
    ("2026-03-01T00:00:00.000Z", ColumnType.DATE, dt.date(2026, 3, 1)),
    ("2026-03-01T09:30:00.000Z", ColumnType.TIMESTAMP, dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone.utc)),
    ("2026-03-01", ColumnType.TIMESTAMP, dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)),
    (False, ColumnType.STRING, "false"), (85.0, ColumnType.STRING, "85"), ({"a": 1}, ColumnType.STRING, '{"a": 1}'),
    (None, ColumnType.BOOLEAN, None), (2**63 - 1, ColumnType.INTEGER, 2**63 - 1), (2**70, ColumnType.STRING, str(2**70)),
    ("2026-03-01T01:00:00+01:00", ColumnType.DATE, dt.date(2026, 3, 1)),
])
def test_a_custom_value_is_converted_to_its_column_type(value: Any, column_type: ColumnType, expected: Any) -> None:
    assert cf.convert(value, column_type, table="casavi.contacts", name="f") == expected


@pytest.mark.parametrize("value, column_type", [
    ("ja", ColumnType.BOOLEAN), (1, ColumnType.BOOLEAN), (2.5, ColumnType.INTEGER), (True, ColumnType.INTEGER),
    ("85", ColumnType.FLOAT), ("01.03.2026", ColumnType.DATE), ("2026-13-01", ColumnType.DATE),
    ("yesterday", ColumnType.TIMESTAMP), (float("inf"), ColumnType.FLOAT),
    (2**63, ColumnType.INTEGER), (-(2**63) - 1, ColumnType.INTEGER), (2.0**70, ColumnType.INTEGER),
    (10**400, ColumnType.FLOAT), ("2026-03-01T23:30:00-05:00", ColumnType.DATE),
    ("2026-03-01T09:30:00.000Z", ColumnType.DATE), ("2026-03-01T00:00:00+01:00", ColumnType.DATE),
])
def test_a_value_that_does_not_fit_names_table_field_and_setting(value: Any, column_type: ColumnType) -> None:
    with pytest.raises(VendorResponseError) as caught:
        cf.convert(value, column_type, table="casavi.units", name="Kaltmiete")
    text = str(caught.value)
    assert "casavi.units" in text and "'Kaltmiete'" in text and f"no {column_type.value}" in text
    assert caught.value.hint == 'declare its type in the connection\'s config: custom_fields = {units = {"Kaltmiete" = "string"}}'


# ---------------------------------------------------------------- rows

def test_a_record_becomes_a_row() -> None:
    c = connector()
    props = c.table("properties")
    row = c.row(props, {"id": "P-1", "postalCode": 80331, "addresses": [{"street": "Marienplatz 1", "city": "M"},
                                                                        {"street": "Weinstraße 2"}]})
    assert row["postalCode"] == "80331" and row["addresses"] == ["Marienplatz 1", "Weinstraße 2"]
    unit = c.row(c.table("units"), {"id": "U-1", "contracts": [{"contactId": "C-1"}, {"contactId": "C-2"}]})
    assert unit["contactIds"] == ["C-1", "C-2"]
    assert c.row(c.table("units"), {"id": "U-2"})["contactIds"] is None
    assert postal_code(1067.0) == "1067" and postal_code("01067") == "01067"
    with pytest.raises(VendorResponseError, match=r"casavi \(casavi.units\): .*contracts is not a list of objects"):
        c.row(c.table("units"), {"id": "U-3", "contracts": {"contactId": "C-1"}})
    with pytest.raises(VendorResponseError, match="addresses is not a list of objects"):
        c.row(props, {"id": "P-2", "addresses": ["Marienplatz 1"]})


def test_custom_fields_reach_their_columns_only_on_the_complete_table(monkeypatch: pytest.MonkeyPatch) -> None:
    c = connector(custom_fields={"contacts": {"Sonderkündigungsrecht": "boolean"}})
    samples = []

    async def sample(table: Any) -> list[dict[str, Any]]:
        samples.append(table.name)
        return [{"id": "C-1", "customFields": {"Newsletter": True, "city": "x", "Geburtsdatum": "1961-04-02"}}]

    monkeypatch.setattr(c, "_sample", sample)
    declared = c.table("contacts")
    assert declared.column("Newsletter") is None and declared.unknown_hint == cf.HINT and samples == []
    whole = declared.extend()
    assert declared.extend() is whole and samples == ["contacts"]  # one sample per connection
    assert [col.name for col in whole.columns[len(declared.columns):]] == [
        "city (custom)", "Geburtsdatum", "Newsletter", "Sonderkündigungsrecht"]
    assert whole.column("city (custom)").field == "customFields.city"
    record = {"id": "C-1", "city": "München", "customFields": {"Newsletter": False, "city": "Pasing",
                                                               "Geburtsdatum": "1961-04-02"}}
    row = c.row(whole, record)
    assert (row["customFields.Newsletter"], row["customFields.city"], row["city"]) == (False, "Pasing", "München")
    assert row["customFields.Geburtsdatum"] == dt.date(1961, 4, 2) and row["customFields.Sonderkündigungsrecht"] is None
    assert "customFields.Newsletter" not in c.row(declared, record)
    with pytest.raises(VendorResponseError, match="customFields is a list, not an object"):
        c.row(whole, {"id": "C-2", "customFields": []})
    with pytest.raises(VendorResponseError, match="'Newsletter' holds a string"):
        c.row(whole, {"id": "C-3", "customFields": {"Newsletter": "yes"}})
    c.refresh()
    assert c.table("contacts").extend() is not whole and samples == ["contacts", "contacts"]


def test_the_hints_config_example_is_valid_toml_that_declares_the_field(tmp_path: Any,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    from crmql.api.config import load_config

    example = cf.HINT.split("e.g. ", 1)[1]
    path = tmp_path / "crmql.toml"
    path.write_text(f'[connections.casavi]\nkey = "k"\nsecret = "${{S}}"\n{example}\n', encoding="utf-8")
    settings = load_config(path, env={"S": "s"}).connections["casavi"].settings
    assert "unknown setting" not in caplog.text
    assert cf.declared_types(settings, "contacts") == {"Sonderkündigungsrecht": ColumnType.BOOLEAN}
    assert CasaviConnector("casavi", dict(settings)).settings["base_url"] == BASE_URL
