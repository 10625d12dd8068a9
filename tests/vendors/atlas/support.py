"""Atlas helpers shared by the Atlas test modules (``test_atlas_e2e.py``, ``tests/test_early_requests.py``)."""

from __future__ import annotations

from typing import Any

TOKEN_PATH = "/atlas/api/1.0/oauth/token"


def request_kinds(server: Any) -> dict[str, int]:
    """Atlas requests in the served sandbox's log, by kind."""
    out = {"token": 0, "template": 0, "entities": 0, "entity": 0, "links": 0, "other": 0}
    for _method, path, _status in server.request_log:
        if not path.startswith("/atlas/"):
            out["other"] += 1
        elif path == TOKEN_PATH:
            out["token"] += 1
        elif "/template/" in path:
            out["template"] += 1
        elif path.endswith("/entities"):
            out["entities"] += 1
        elif path.endswith("/links"):
            out["links"] += 1
        else:
            out["entity"] += 1
    return out
