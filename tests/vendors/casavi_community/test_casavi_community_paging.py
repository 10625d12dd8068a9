"""Page-index paging (appointments, activities: ``page`` + ``limit``; posts: ``page`` only, the vendor's
20 a page) under every reading of what the docs leave open (vendor-notes section 4, ambiguity 25):
the page base (``page`` "starts at 0" per the docs, or 1: page 0 answered as page 1, which the
envelope's ``page`` echo shows) and the largest ``limit`` served (100 or 50). A scan of the biggest
community of each table returns every record once, and sends exactly ``pageCount`` page requests
(the first page's count says how many; none past the end, none twice).
"""

from __future__ import annotations

import math

import pytest

from crmql.sandbox import SandboxServer

from contract.kit import session_for

from vendors.casavi_community.spec import FAULT_COMMUNITY, SPEC
from vendors.casavi_community.support import V, biggest, communities_asked, ids, of

READINGS = [pytest.param({f"{V}.page_base": base, f"{V}.page_size_max": size}, id=f"base={base},max={size}")
            for base in ("0", "1") for size in ("100", "50")]
#: table -> the page size it is served at when crmql asks for 100 (None: the reading's maximum)
SERVED = {"appointments": None, "activities": None, "posts": 20}


@pytest.mark.parametrize("variants", READINGS)
def test_page_index_scans_are_complete_in_page_count_requests(sandbox: SandboxServer, variants: dict[str, str]) -> None:
    sandbox.settings.variants = variants
    with session_for(SPEC, sandbox.url) as session:
        for table, size in SERVED.items():
            community, n = biggest(table)
            size = size or int(variants[f"{V}.page_size_max"])
            assert n > 2 * size or table == "appointments", (table, n)  # several pages
            sandbox.reset_log()
            result = session.execute(f"SELECT id FROM {V}.{table} WHERE community_id = {community}")
            got = ids(result.frame)
            assert sorted(got) == sorted(r["id"] for r in of(table, community)) and len(got) == len(set(got)), table
            pages = math.ceil(n / size)
            assert communities_asked(sandbox, table) == [community] * pages, (table, n, size)
            assert result.stats.pages == pages, (table, result.stats.pages, pages)


def test_the_fault_scan_reads_three_pages() -> None:
    """The fault contract's scan (``spec.FAULTS``) reads more than two pages of 100."""
    assert len(of("activities", FAULT_COMMUNITY)) > 200


@pytest.mark.parametrize("table", ["activities", "notifications"])
def test_a_limit_reads_one_page(sandbox: SandboxServer, table: str) -> None:
    """LIMIT with nothing re-checked stops paging early (README: "LIMIT stops paging early"): the
    first answer has the rows."""
    community, n = biggest(table)
    assert n > 100
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT id FROM {V}.{table} WHERE community_id = {community} LIMIT 5")
    assert len(frame) == 5 and set(ids(frame)) <= {r["id"] for r in of(table, community)}
    assert communities_asked(sandbox, table) == [community]
