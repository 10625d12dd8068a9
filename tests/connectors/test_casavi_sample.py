"""The casavi custom-field sample over real HTTP (a loopback Manager that counts its list requests):
its answer serves only the statement that took it (never a later one, never one run outside a
statement such as ``Session.describe``), its page is counted once, one sample per table however
many threads ask at once, and a refused size's retried answer serves the scan too."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from crmql import stats
from crmql.connectors.casavi.sample import answer

import casavi_loopback as loopback

KEY, SECRET = "sample-key", "sample-secret"


def contact(n: int) -> dict[str, Any]:
    return {"id": f"C-{n:04d}", "firstName": f"Anna {n}",
            "customFields": {"Newsletter": n % 3 == 0, "Kundennummer": f"K-{n:05d}"}}


# one request at a time: no page is requested ahead, so every list request is the scan's
served, manager, session = loopback.fixtures(contact, KEY, SECRET, concurrency=1)


def changed_after_the_sample(manager: loopback.Manager) -> None:
    """The vendor's data moves on: record 0 is edited, record 1 deleted."""
    manager.records[0] = {**manager.records[0], "firstName": "changed"}
    del manager.records[1]


def check_current(frame: Any) -> None:
    """``frame`` is the vendor's data now, not the sampled first page."""
    ids = list(frame["id"])
    assert len(ids) == len(set(ids)) == 229 and "C-0001" not in ids and "C-0100" in ids
    assert frame.loc[frame["id"] == "C-0000", "firstName"].item() == "changed"


def test_a_page_sampled_by_describe_is_not_used_by_a_later_statement(served: tuple[list[Any], str],
                                                                     manager: loopback.Manager) -> None:
    with session(served) as s:
        connector = s.connector("casavi")
        connector.early.start("a request started for no statement", answer([]))
        described = s.describe("casavi", "contacts")
        assert "Newsletter" in set(described["column"]) and manager.lists == ["limit=100"]
        assert len(connector.early) == 0  # describe drops whatever was started early, and leaves nothing
        changed_after_the_sample(manager)
        check_current(s.query("SELECT * FROM casavi.contacts"))
    assert manager.lists == ["limit=100", "limit=100", "limit=100&page=1", "limit=100&page=2"]


def test_a_sample_serves_only_the_statement_that_took_it(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    with session(served) as s:
        connector = s.connector("casavi")
        with stats.collecting(stats.QueryStats()):  # another statement's sample (not discarded by a session)
            connector.table("contacts").complete()
        assert len(connector.early) == 1
        changed_after_the_sample(manager)
        check_current(s.query("SELECT * FROM casavi.contacts"))  # its own first page, not the other's
        connector.refresh()
        connector.table("contacts").complete()  # outside any statement: nothing is left
        assert len(connector.early) == 0


def test_select_star_takes_its_own_sample_and_counts_that_page_once(served: tuple[list[Any], str],
                                                                     manager: loopback.Manager) -> None:
    with session(served) as s:
        result = s.execute("SELECT * FROM casavi.contacts")
    assert len(result.frame) == 230 and "Newsletter" in result.frame.columns
    assert manager.lists == ["limit=100", "limit=100&page=1", "limit=100&page=2"]  # the sample is page 1
    assert (result.stats.pages, result.stats.rows_fetched) == (3, 230)
    assert result.stats.requests == 1 + 3  # the token, and each list request once


def test_a_custom_column_in_a_filtered_scan_counts_the_sample_as_a_request_only(served: tuple[list[Any], str],
                                                                                 manager: loopback.Manager) -> None:
    with session(served) as s:
        result = s.execute("SELECT Kundennummer FROM casavi.contacts WHERE id = 'C-0007'")
    assert list(result.frame["Kundennummer"]) == ["K-00007"]
    assert manager.lists == ["limit=100"]  # the sample; the row is read by id
    assert (result.stats.requests, result.stats.pages, result.stats.rows_fetched) == (3, 1, 1)


def test_threads_on_one_session_sample_a_table_once(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    manager.delay_s = 0.3  # the first sample is still out when the other thread needs the columns
    frames: list[Any] = []
    errors: list[BaseException] = []
    with session(served) as s:
        s.connector("casavi").http  # built once, before the threads
        start = threading.Barrier(3)

        def run(n: int) -> None:
            start.wait()
            try:
                frames.append(s.query(f"SELECT id, Newsletter FROM casavi.contacts WHERE id = 'C-000{n}'"))
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors and sorted(f["id"].item() for f in frames) == ["C-0000", "C-0001", "C-0002"]
    assert manager.lists == ["limit=100"]  # one sample for all three


def test_a_refused_sizes_retried_answer_serves_the_scan(served: tuple[list[Any], str], manager: loopback.Manager) -> None:
    manager.max_size, manager.refuse = 50, True
    with session(served) as s:
        frame = s.query("SELECT * FROM casavi.contacts")
    assert sorted(frame["id"]) == [f"C-{n:04d}" for n in range(230)]
    assert manager.lists.count("") == 1  # the vendor's own first page, asked once: by the sample
    assert manager.lists.count("limit=100") <= 2 and len(manager.lists) == manager.lists.count("limit=100") + 10
