"""casavi custom fields over real HTTP: discovered from one sample page only when a statement needs
them, declared in the connection's ``custom_fields`` setting when the sample misses them, converted
to their column types (a value that does not fit: a clear error): against a loopback casavi Manager
that counts its requests and plays what the simulator does not (a value of the wrong type), then
against the casavi simulator (every table's custom fields, the rare one, the page size readings)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from crmql.api.config import sandbox_config
from crmql.api.session import Session
from crmql.errors import QueryError, VendorResponseError
from crmql.sandbox import records

import casavi_loopback as loopback

KEY, SECRET = "loop-casavi-key", "loop-casavi-secret"


def contact(n: int) -> dict[str, Any]:
    custom: dict[str, Any] = {"Newsletter": n % 3 == 0, "Geburtsdatum": f"19{60 + n % 40}-04-0{1 + n % 9}"}
    if n % 2:
        custom["Kundennummer"] = f"K-{n:05d}"
    if n >= 150 and n % 10 == 0:  # the rare field: absent from the first page
        custom["Sonderkündigungsrecht"] = n % 20 == 0
    return {"id": f"C-{n:04d}", "firstName": f"Anna {n}", "city": "München" if n % 2 else "Berlin",
            "postalCode": 80331 if n == 7 else "10115", "isRegistered": n % 4 == 0, "customFields": custom}


served, manager, session = loopback.fixtures(contact, KEY, SECRET)


def test_declared_columns_only_send_no_sample(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    with session(served) as s:
        frame = s.query("SELECT id, firstName, postalCode FROM casavi.contacts WHERE city = 'Berlin' ORDER BY id")
    assert len(frame) == 115 and frame["postalCode"].iloc[0] == "10115"
    assert manager.lists == ["limit=100", "limit=100&page=1", "limit=100&page=2"]


def test_a_custom_field_costs_one_sample_per_connection(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    with session(served) as s:
        frame = s.query('SELECT id, Newsletter, Geburtsdatum FROM casavi.contacts WHERE Newsletter ORDER BY id')
        assert list(frame["id"][:3]) == ["C-0000", "C-0003", "C-0006"] and len(frame) == 77
        assert str(frame["Geburtsdatum"].iloc[1]) == "1963-04-04"
        # the scan's first request is the sample's: the statement's own sample answers it
        assert manager.lists == ["limit=100", "limit=100&page=1", "limit=100&page=2"]
        frame = s.query("SELECT Kundennummer FROM casavi.contacts WHERE id = 'C-0007'")  # the sample is cached
        assert list(frame["Kundennummer"]) == ["K-00007"] and manager.reads == ["C-0007"]
        assert manager.lists == ["limit=100", "limit=100&page=1", "limit=100&page=2"]


def test_describe_and_select_star_show_the_custom_fields(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    with session(served) as s:
        described = s.query("DESCRIBE casavi.contacts")
        rows = {r["column"]: r for r in described.to_dict("records")}
        assert rows["Newsletter"]["type"] == "boolean" and rows["Geburtsdatum"]["type"] == "date"
        assert rows["Kundennummer"]["field_id"] == "customFields.Kundennummer"
        assert "Sonderkündigungsrecht" not in rows  # not on the first page
        frame = s.query("SELECT * FROM casavi.contacts WHERE id = 'C-0007'")
    assert frame["Kundennummer"].iloc[0] == "K-00007" and frame["postalCode"].iloc[0] == "80331"
    assert '"Kundennummer": "K-00007"' in frame["customFields"].iloc[0]


def test_a_field_the_sample_misses_is_declared_in_the_settings(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    query = 'SELECT id FROM casavi.contacts WHERE "Sonderkündigungsrecht" ORDER BY id'
    with session(served) as s, pytest.raises(QueryError) as caught:
        s.query(query)
    assert "unknown column 'Sonderkündigungsrecht' in casavi.contacts" in str(caught.value)
    assert "custom fields are discovered from the first page" in caught.value.hint
    assert 'custom_fields = {contacts = {"Sonderkündigungsrecht" = "boolean"}}' in caught.value.hint
    with session(served, custom_fields={"contacts": {"Sonderkündigungsrecht": "boolean"}}) as s:
        frame = s.query(query)
    assert list(frame["id"]) == ["C-0160", "C-0180", "C-0200", "C-0220"]


def test_a_value_that_does_not_fit_is_an_error_naming_the_setting(served: tuple[list[Any], str],
                                                                  manager: loopback.Manager) -> None:
    manager.records[205]["customFields"]["Newsletter"] = "ja"
    with session(served) as s, pytest.raises(VendorResponseError) as caught:
        s.query("SELECT id, Newsletter FROM casavi.contacts")
    assert "casavi (casavi.contacts)" in str(caught.value) and "'Newsletter' holds a string ('ja')" in str(caught.value)
    assert 'custom_fields = {contacts = {"Newsletter" = "string"}}' in caught.value.hint
    with session(served, custom_fields={"contacts": {"Newsletter": "string"}}) as s:
        frame = s.query("SELECT Newsletter, COUNT(*) AS n FROM casavi.contacts GROUP BY 1 ORDER BY 1")
    assert frame.to_dict("records") == [{"Newsletter": "false", "n": 152}, {"Newsletter": "ja", "n": 1},
                                        {"Newsletter": "true", "n": 77}]


def test_a_bad_value_fails_only_the_statements_that_read_its_field(served: tuple[list[Any], str],
                                                                   manager: loopback.Manager) -> None:
    manager.records[205]["customFields"]["Newsletter"] = "ja"  # no boolean: Newsletter's column is BOOLEAN
    with session(served) as s:
        frame = s.query("SELECT id, Kundennummer FROM casavi.contacts WHERE Kundennummer = 'K-00205'")
        assert list(frame["id"]) == ["C-0205"]  # Newsletter is not read: its value is never converted
        frame = s.query('SELECT c.id, k."Geburtsdatum" FROM casavi.contacts c JOIN casavi.contacts k ON k.id = c.id '
                        "WHERE c.id = 'C-0205'")
        assert str(frame["Geburtsdatum"].item()) == "1965-04-08"
        for query in ("SELECT id FROM casavi.contacts WHERE Newsletter", "SELECT * FROM casavi.contacts",
                      "SELECT Newsletter, COUNT(*) FROM casavi.contacts GROUP BY 1",
                      "SELECT id FROM casavi.contacts ORDER BY Newsletter, id"):
            with pytest.raises(VendorResponseError, match="'Newsletter' holds a string"):
                s.query(query)


def test_integers_beyond_64_bits_and_a_field_without_a_name(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    for n, record in enumerate(manager.records):
        record["customFields"].update({"Zählernummer": 2**70 + n, "": f"no name {n}"})
    with session(served) as s:
        described = {r["column"]: r for r in s.query("DESCRIBE casavi.contacts").to_dict("records")}
        assert described["Zählernummer"]["type"] == "string"  # no INTEGER holds it: its digits, exact
        assert described["(unnamed custom field)"]["field_id"] == "customFields."
        frame = s.query('SELECT id, "Zählernummer", "(unnamed custom field)" FROM casavi.contacts '
                        "WHERE id = 'C-0003'")
        assert frame.iloc[0].tolist() == ["C-0003", str(2**70 + 3), "no name 3"]
    with session(served, custom_fields={"contacts": {"Zählernummer": "integer"}}) as s, \
            pytest.raises(VendorResponseError, match="'Zählernummer' holds an integer .* no integer"):
        s.query('SELECT "Zählernummer" FROM casavi.contacts')


def test_a_date_time_in_a_date_column_is_an_error(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    manager.records[120]["customFields"]["Geburtsdatum"] = "1961-04-02T00:00:00.000Z"  # midnight UTC: that day
    with session(served) as s:
        frame = s.query("SELECT Geburtsdatum FROM casavi.contacts WHERE id IN ('C-0120')")
        assert str(frame["Geburtsdatum"].item()) == "1961-04-02"
        manager.records[121]["customFields"]["Geburtsdatum"] = "2026-03-01T23:30:00-05:00"  # 03-02 in UTC
        with pytest.raises(VendorResponseError, match="'Geburtsdatum' holds a string .* no date"):
            s.query("SELECT id, Geburtsdatum FROM casavi.contacts")


def test_a_sample_whose_page_size_is_refused_is_asked_again_without(served: tuple[list[Any], str],
                                                                     manager: loopback.Manager) -> None:
    manager.max_size, manager.refuse = 50, True
    with session(served, page_size=50) as s:
        frame = s.query("DESCRIBE casavi.contacts")
    assert "Newsletter" in set(frame["column"])
    assert manager.lists == ["limit=50"]  # 50 is allowed: one sample
    manager.lists.clear()
    with session(served) as s:
        frame = s.query("DESCRIBE casavi.contacts")
    assert "Newsletter" in set(frame["column"])
    assert manager.lists == ["limit=100", ""]  # refused with its size, then the vendor's own page


# ---------------------------------------------------------------- against the casavi simulator

@pytest.fixture
def simulated(sandbox: Any) -> Iterator[tuple[Any, Callable[..., Session]]]:
    """The served sandbox (default readings, empty log) and a factory of sessions on its casavi."""
    made: list[Session] = []

    def make(**settings: Any) -> Session:
        config = sandbox_config(sandbox.url)
        config.connections["casavi"].settings.update(settings)
        made.append(Session(config))
        return made[-1]

    yield sandbox, make
    for s in made:
        s.close()


def custom(table: str, name: str) -> dict[str, Any]:
    return {r["id"]: (r.get("customFields") or {}).get(name) for r in records("casavi", table, 42)}


@pytest.mark.parametrize("table, types", [
    ("contacts", {"Newsletter": "boolean", "Kundennummer": "string", "Geburtsdatum": "date", "Anschrift": "string",
                  "Email2": "string"}),
    ("properties", {"Baujahr": "integer", "Wohnfläche": "float", "Heizungsart": "string", "Denkmalschutz": "boolean",
                    "Letzte Begehung": "timestamp"}),
    ("units", {"Kaltmiete": "float", "Balkon": "boolean"}),
])
def test_the_simulators_custom_fields_are_typed_and_served_as_stored(
        simulated: tuple[Any, Callable[..., Session]], table: str, types: dict[str, str]) -> None:
    server, make = simulated
    s = make()
    described = {r["column"]: r["type"] for r in s.query(f"DESCRIBE casavi.{table}").to_dict("records")}
    assert {name: described.get(name) for name in types} == types
    assert "Sonderkündigungsrecht" not in described  # the rare field is not on the first page
    lists = [p for m, p, _ in server.request_log if m == "GET"]
    assert lists == [f"/casavi/v2/{table}"]  # one sample
    columns = ", ".join(f'"{name}"' for name in types)
    frame = s.query(f"SELECT id, {columns} FROM casavi.{table}")  # one scan reads every custom field
    for name, type_name in types.items():
        got = dict(zip(frame["id"], frame[name].astype(object)))
        want = custom(table, name)
        assert got.keys() == want.keys()
        for key, value in want.items():
            shown = got[key]
            if value is None:
                assert pd.isna(shown), (key, shown)
            elif type_name == "date":
                assert str(shown)[:10] == value
            elif type_name == "timestamp":
                assert shown == pd.Timestamp(value), (key, shown, value)
            else:
                assert shown == value, (key, shown, value)


def test_the_rare_field_declared_in_the_settings(simulated: tuple[Any, Callable[..., Session]]) -> None:
    _, make = simulated
    want = sorted(k for k, v in custom("contacts", "Sonderkündigungsrecht").items() if v is True)
    assert want  # the seed has some
    with pytest.raises(QueryError, match="unknown column 'Sonderkündigungsrecht'"):
        make().query('SELECT id FROM casavi.contacts WHERE "Sonderkündigungsrecht"')
    frame = make(custom_fields={"contacts": {"Sonderkündigungsrecht": "boolean"}}).query(
        'SELECT id FROM casavi.contacts WHERE "Sonderkündigungsrecht" ORDER BY id')
    assert list(frame["id"]) == want


@pytest.mark.parametrize("variants, sizes", [
    ({"casavi.page_size_param": "size"}, ["limit=100"]),  # ignored: the vendor's 25
    ({"casavi.page_size_max": "50", "casavi.oversize": "reject"}, ["limit=100", ""]),  # refused, then without
])
def test_the_sample_under_the_page_size_readings(simulated: tuple[Any, Callable[..., Session]],
                                                 variants: dict[str, str], sizes: list[str]) -> None:
    server, make = simulated
    server.settings.variants = variants
    frame = make().query("DESCRIBE casavi.units")
    assert {"Kaltmiete", "Balkon"} <= set(frame["column"])
    assert [p for m, p, _ in server.request_log if m == "GET"] == ["/casavi/v2/units"] * len(sizes)


def test_postal_codes_served_as_numbers_are_text(simulated: tuple[Any, Callable[..., Session]]) -> None:
    server, make = simulated
    server.settings.variants = {"casavi.postal_code": "number"}
    frame = make().query("SELECT id, postalCode FROM casavi.properties")
    want = {r["id"]: r.get("postalCode") for r in records("casavi", "properties", 42)}
    got = dict(zip(frame["id"], frame["postalCode"]))
    assert got.keys() == want.keys()
    # served as a JSON number (a leading zero lost at the vendor): its digits as text, never '80331.0'
    assert {k: v for k, v in got.items() if v is not None} == {k: str(int(w)) for k, w in want.items() if w is not None}
