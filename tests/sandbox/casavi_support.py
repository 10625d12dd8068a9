"""Helpers of the casavi simulator tests: the vendor's registration (until its package registers it),
a served sandbox, a login, and a list scan that follows ``_links.next`` in each of its forms."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from crmql.sandbox import SandboxServer, SandboxSettings
from crmql.sandbox.casavi.spec import SIMULATOR
from crmql.vendors import VendorSpec, registered, vendors

KEY, SECRET = SIMULATOR.credentials["key"], SIMULATOR.credentials["secret"]
#: casavi as its package declares it, for a process where the entry point is not installed yet
CASAVI = VendorSpec(name="casavi", display_name="casavi", connector="collections:OrderedDict",
                    simulator="crmql.sandbox.casavi.spec:SIMULATOR")
#: the one seed other than 42 the casavi simulator tests build (the determinism test and the seed
#: test share it: the world cache builds it once per run)
OTHER_SEED = 7


@contextlib.contextmanager
def casavi_registered() -> Iterator[None]:
    """casavi in the vendor registry (registered for the block when no entry point names it)."""
    if "casavi" in vendors():
        yield
        return
    with registered(CASAVI):
        yield


@contextlib.contextmanager
def casavi_server() -> Iterator[SandboxServer]:
    """A sandbox server serving the casavi simulator."""
    with casavi_registered(), SandboxServer(SandboxSettings()) as server:
        yield server


def login(client: httpx.Client) -> dict[str, str]:
    """The ``token`` header of a fresh login."""
    answer = client.post("/v2/authenticate", json={"key": KEY, "secret": SECRET})
    assert answer.status_code == 200, answer.text
    return {"token": answer.json()["token"]}


def resolve(client: httpx.Client, link: Any) -> str:
    """A next link (absolute URL, root-relative path or ``{href}``) as an absolute URL on the client's origin."""
    href = link["href"] if isinstance(link, dict) else link
    assert isinstance(href, str) and href, link
    url = client.base_url.join(href)
    assert (url.scheme, url.host, url.port) == (client.base_url.scheme, client.base_url.host, client.base_url.port)
    return str(url)


def scan(client: httpx.Client, headers: dict[str, str], table: str, params: dict[str, Any] | None = None,
         max_pages: int = 400) -> tuple[list[dict[str, Any]], list[int], list[Any]]:
    """Every record of a list, following next links: ``(records, page sizes, links seen)``."""
    answer = client.get(f"/v2/{table}", params=params or {}, headers=headers)
    records: list[dict[str, Any]] = []
    sizes: list[int] = []
    links: list[Any] = []
    for _ in range(max_pages):
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"list", "_links"}, body.keys()
        records += body["list"]
        sizes.append(len(body["list"]))
        link = body["_links"].get("next")
        links.append(link)
        if link is None:
            return records, sizes, links
        answer = client.get(resolve(client, link), headers=headers)
    raise AssertionError(f"more than {max_pages} pages")
