"""The casavi Community tables read per ticket or per community, against the simulator's own data
(``crmql.sandbox.casavi_community.data.ticket_detail``, the seeded records):

* ``ticket_details``: one GET ``/api/v1/tickets/{id}`` per id: description, custom fields (JSON
  text), rating, comment and attachment counts as the detail has them; a join supplies the ids;
* ``ticket_comments``: the detail's ``TicketComments``, each row carrying its ticket;
* ``faq_articles``: each article once with its own community (NULL: every community's), so
  ``community_id = n`` is community n's own articles (``?community_id=n`` also serves the shared
  ones: a superset, re-checked) and ``OR community_id IS NULL`` adds the shared ones; group names
  from the answer's groups;
* ``unread_counts``: two GETs per community; the notifications count equals the unread
  notifications of the community.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from crmql.sandbox import SandboxServer
from crmql.sandbox.casavi_community.data import ticket_detail

from cli_support import reset_sandbox
from contract.kit import session_for

from vendors.casavi_community.spec import SPEC
from vendors.casavi_community.support import API, V, api_gets, communities_asked, ids, of, raw


@pytest.fixture(scope="module")
def session(sandbox_server: SandboxServer) -> Any:
    reset_sandbox(sandbox_server)
    with session_for(SPEC, sandbox_server.url) as s:
        yield s


def _with_comments(n: int) -> list[dict[str, Any]]:
    """``n`` tickets of community 12 whose details have comments and attachments where possible."""
    details = [ticket_detail(42, t["id"]) for t in of("tickets", 12)]
    rich = [d for d in details if d and d["TicketComments"] and d["Attachments"]] or [d for d in details if d]
    return rich[:n]


def test_ticket_details_by_id(sandbox: SandboxServer, session: Any) -> None:
    details = _with_comments(2)
    sandbox.reset_log()
    frame = session.query(f"SELECT id, title, description, custom_fields, rating, comment_count, attachment_count "
                          f"FROM {V}.ticket_details WHERE id IN ({details[0]['id']}, {details[1]['id']})")
    got = {int(r.id): r for r in frame.itertuples(index=False)}
    assert set(got) == {d["id"] for d in details}
    for d in details:
        row = got[d["id"]]
        assert row.title == d["title"] and row.description == d["descriptionRendered"]
        assert json.loads(row.custom_fields) == json.loads(json.dumps(d["customFields"]))
        assert int(row.comment_count) == len(d["TicketComments"]) and int(row.attachment_count) == len(d["Attachments"])
        rating = (d.get("TicketRating") or {}).get("rating")
        assert (None if pd.isna(row.rating) else int(row.rating)) == rating
    assert sorted(p for p, _ in api_gets(sandbox)) == sorted(f"{API}/tickets/{d['id']}" for d in details)


def test_ticket_comments_by_ticket_and_through_a_join(sandbox: SandboxServer, session: Any) -> None:
    detail = _with_comments(1)[0]
    frame = session.query(f"SELECT ticket_id, id, text, author_name, is_public FROM {V}.ticket_comments "
                          f"WHERE ticket_id = {detail['id']}")
    want = sorted((detail["id"], k["id"], k["text"], k["isPublic"]) for k in detail["TicketComments"])
    got = zip(frame["ticket_id"].astype(int), ids(frame), frame["text"], frame["is_public"].astype(bool))
    assert sorted(got) == want
    sandbox.reset_log()
    joined = session.query(f"SELECT t.id, c.id AS cid FROM {V}.tickets t JOIN {V}.ticket_comments c "
                           f"ON c.ticket_id = t.id WHERE t.community_id = 12 AND t.id = {detail['id']}")
    assert sorted(int(i) for i in joined["cid"]) == sorted(k["id"] for k in detail["TicketComments"])
    assert f"{API}/tickets/{detail['id']}" in [p for p, _ in api_gets(sandbox)]


def test_faq_articles_of_a_community_and_of_all(sandbox: SandboxServer, session: Any) -> None:
    items = raw("faq_articles")
    c = min(r["community_id"] for r in items if r["community_id"] is not None)  # one with articles of its own
    scoped = session.query(f"SELECT community_id, id, group_id, group_name, title FROM {V}.faq_articles "
                           f"WHERE community_id = {c}")
    assert sorted(ids(scoped)) == sorted(r["id"] for r in items if r["community_id"] == c)
    assert set(scoped["community_id"].astype(int)) == {c}
    shared = session.query(f"SELECT id FROM {V}.faq_articles WHERE community_id = {c} OR community_id IS NULL")
    assert sorted(ids(shared)) == sorted(r["id"] for r in items if r["community_id"] in (None, c))
    assert scoped["group_name"].notna().all()
    whole = session.query(f"SELECT community_id, id FROM {V}.faq_articles")
    assert sorted(ids(whole)) == sorted(r["id"] for r in items)  # each article once
    own = {int(i): (None if pd.isna(c) else int(c)) for i, c in zip(whole["id"], whole["community_id"])}
    assert all(own[r["id"]] == r["community_id"] for r in items)  # NULL for the articles of every community


def test_unread_counts(sandbox: SandboxServer, session: Any) -> None:
    sandbox.reset_log()
    frame = session.query(f"SELECT community_id, chat, notifications FROM {V}.unread_counts "
                          "WHERE community_id IN (12, 15)")
    got = {int(c): (int(chat), int(n))
           for c, chat, n in zip(frame["community_id"], frame["chat"], frame["notifications"])}
    assert set(got) == {12, 15}
    for c, (chat, unread) in got.items():
        assert unread == sum(1 for r in of("notifications", c) if r["read"] is False) and 0 <= chat <= 12
    assert sorted(communities_asked(sandbox, "unread")) == [12, 12, 15, 15]  # chat and notifications, each
