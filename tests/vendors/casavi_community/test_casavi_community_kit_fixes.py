"""Fixes to the REST kit found by the issue #12 reviews, against the casavi Community simulator
over real HTTP:

* a join narrowed into a fan-out in several chunks keeps rows of different communities that share an
  id (each chunk reads other communities: nothing to de-duplicate across them by id alone);
* a whole-number float/decimal on an INTEGER key is that integer; a non-integral one matches nothing;
* the 404 policy: every community answering 404 is an error naming the path and the ``paths``
  setting, some answering 404 is a warning naming them;
* per-key errors are named after the community, connection-wide ones are not; every warning of a
  fan-out scan names its community;
* two bounds on one parameter send the tightest;
* LIMIT over a fan-out reads the communities concurrently (in key order);
* COUNT(*) of a page-index table is one ``limit=1`` request per community (its ``pageCount``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmql import stats
from crmql.errors import AuthenticationError, NetworkError, VendorHTTPError
from crmql.sandbox import SandboxServer

from contract.kit import session_for

from vendors.casavi_community.spec import SPEC
from vendors.casavi_community.support import V, api_gets, communities_asked, of, raw, simulator


@pytest.fixture
def sim(sandbox: SandboxServer) -> Iterator[object]:
    s = simulator(sandbox)
    s.reset()
    try:
        yield s
    finally:
        s.reset()


def floor_communities(floor: int) -> list[int]:
    return sorted({u["community_id"] for u in raw("units") if u.get("floor") == floor})


def test_a_join_over_many_chunks_keeps_rows_of_other_communities_sharing_an_id(sandbox: SandboxServer,
                                                                                 sim) -> None:
    floor5 = floor_communities(5)
    assert len(floor5) > 50  # more than one chunk of 50 communities
    a, b = floor5[0], floor5[-1]
    victim = of("notifications", a)[0]
    sim.add_notification(b, id=victim["id"], title="same id, other community")
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT DISTINCT n.community_id AS c, n.id AS nid FROM {V}.units u JOIN "
                              f"{V}.notifications n ON n.community_id = u.community_id WHERE u.floor = 5")
    got = set(zip(frame["c"].astype(int), frame["nid"].astype(int)))
    assert (a, victim["id"]) in got and (b, victim["id"]) in got
    want = {(n["community_id"], n["id"]) for n in raw("notifications") if n["community_id"] in floor5}
    assert got == want | {(b, victim["id"])}


@pytest.mark.parametrize("where, params, communities", [
    ("community_id = 12.0", None, [12]),
    ("community_id IN (12, 15.5)", None, [12]),
    ("community_id = :c", {"c": 12.0}, [12]),
    ("community_id = :c", {"c": "12.0"}, [12]),  # (--param c=12.0: text that meets an integer)
])
def test_a_whole_number_on_the_integer_key_is_that_community(sandbox: SandboxServer, where: str, params,
                                                             communities: list[int]) -> None:
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT community_id, id FROM {V}.appointments WHERE {where}", params)
    assert sorted(frame["id"]) == sorted(r["id"] for c in communities for r in of("appointments", c))
    assert set(frame["community_id"]) == set(communities)
    assert communities_asked(sandbox, "appointments") == communities


def test_a_fractional_value_on_the_integer_key_matches_nothing(sandbox: SandboxServer) -> None:
    sql = f"SELECT id FROM {V}.appointments WHERE community_id IN (12.5, 15.25)"
    with session_for(SPEC, sandbox.url) as session:
        assert len(session.query(sql)) == 0
        text = session.explain(sql)
    assert "no community can match" in text and "no community_id" not in text
    assert api_gets(sandbox) == []


def test_an_integer_id_given_as_a_whole_float_is_read_by_id(sandbox: SandboxServer) -> None:
    ticket = raw("tickets")[0]
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(f"SELECT id FROM {V}.tickets WHERE id = {ticket['id']}.0")
        assert list(frame["id"]) == [ticket["id"]]
        assert api_gets(sandbox) == [(f"/casavi_community/api/v1/tickets/{ticket['id']}", 200)]
        assert len(session.query(f"SELECT id FROM {V}.tickets WHERE id = {ticket['id']}.5")) == 0
    assert len(api_gets(sandbox)) == 1


def test_an_optional_key_given_as_a_whole_float_is_sent_as_the_integer(sandbox: SandboxServer) -> None:
    sql = f"SELECT id FROM {V}.units WHERE community_id = 12.0"
    with session_for(SPEC, sandbox.url) as session:
        frame = session.query(sql)
        text = session.explain(sql)
    assert sorted(frame["id"]) == sorted(u["id"] for u in of("units", 12))
    assert "GET /api/v1/units?community_id=12\n" in text


def test_every_community_answering_404_is_an_error_naming_the_path_and_the_paths_setting(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url) as session:
        with pytest.raises(VendorHTTPError) as e:
            session.query(f"SELECT id FROM {V}.appointments WHERE community_id IN (99998, 99999)")
        assert e.value.exit_code == 3 and e.value.status == 404
        assert ("GET /api/v1/communities/{community_id}/appointments answered 404 for every community asked "
                "(99998, 99999): no such community, or the path is not the vendor's") in e.value.message
        assert "paths" in (e.value.hint or "")
        with pytest.raises(VendorHTTPError, match="every community asked"):  # COUNT(*) over the fan-out too
            session.query(f"SELECT COUNT(*) FROM {V}.notifications WHERE community_id = 99999")
        with pytest.raises(VendorHTTPError, match=r"GET /api/v1/units\?community_id=\{community_id\} answered 404"):
            sandbox.settings.variants = {}
            session.query(f"SELECT id FROM {V}.units WHERE community_id = 99999")


def test_some_communities_answering_404_is_a_warning_naming_them(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url) as session:
        result = session.execute(f"SELECT id FROM {V}.notifications WHERE community_id IN (12, 99999)")
        assert sorted(result.frame["id"]) == sorted(r["id"] for r in of("notifications", 12))
        warnings = list(result.stats.warnings)
        assert any("community 99999 answered 404 (no such community?): no rows for it" in w for w in warnings)
        assert not any("count is missing" in w for w in warnings), warnings  # a 404 is no answer without count
        result = session.execute(f"SELECT COUNT(*) AS n FROM {V}.notifications WHERE community_id IN (12, 99999)")
        assert list(result.frame["n"]) == [len(of("notifications", 12))]
        assert any("community 99999 answered 404" in w for w in result.stats.warnings)
        assert not any("count is missing" in w for w in result.stats.warnings)


def test_a_refused_login_is_not_blamed_on_a_community(sandbox: SandboxServer) -> None:
    with session_for(SPEC, sandbox.url, (("refresh_token", "not-the-sandbox-token"),)) as session:
        with pytest.raises(AuthenticationError) as e:
            session.query(f"SELECT id FROM {V}.appointments WHERE community_id IN (12, 15)")
    assert "community 12" not in e.value.message and "community 15" not in e.value.message


def test_a_limit_reads_communities_concurrently(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from vendors.casavi_community.support import InFlight

    flight = InFlight(r"/api/v1/communities/\d+/activities$")
    flight.install(monkeypatch)
    sandbox.settings.latency_ms = 30
    ins = ", ".join(str(c) for c in range(1, 21))
    with session_for(SPEC, sandbox.url, (("concurrency", 4),)) as session:
        frame = session.query(f"SELECT community_id, id FROM {V}.activities WHERE community_id IN ({ins}) LIMIT 100000")
    assert sorted(frame["id"]) == sorted(r["id"] for c in range(1, 21) for r in of("activities", c))
    assert 1 < flight.most <= 4


def test_count_of_activities_is_one_request_of_one_row_per_community(sandbox: SandboxServer) -> None:
    counts: dict[int, int] = {}
    for r in raw("activities"):
        counts[r["community_id"]] = counts.get(r["community_id"], 0) + 1
    big = max(counts, key=lambda c: counts[c])
    assert counts[big] > 100  # (a scan would read several pages of 100)
    sql = f"SELECT COUNT(*) AS n FROM {V}.activities WHERE community_id IN ({big}, 12)"
    with session_for(SPEC, sandbox.url) as session:
        assert list(session.query(sql)["n"]) == [counts[big] + counts[12]]
        assert len(api_gets(sandbox)) == 2
        assert "limit=1" in session.explain(sql)
    sandbox.settings.variants = {"casavi_community.page_base": "1"}
    with session_for(SPEC, sandbox.url) as session:
        assert list(session.query(sql)["n"]) == [counts[big] + counts[12]]
