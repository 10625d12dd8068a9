"""An ASGI app served by uvicorn on a free loopback port in a daemon thread, for tests that play a
vendor over real HTTP (the REST kit's shapes and new vendors, the HTTP flows), and :class:`InFlight`,
which counts the requests a sandbox serves at once."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a daemon thread; its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="critical", access_log=False,
                                           loop="asyncio", lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.005)
    try:
        yield "http://127.0.0.1:%d" % sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@contextmanager
def serve_fresh(make: Any) -> Iterator[tuple[list[Any], str]]:
    """Serve ``make()`` (an object with an ``app()`` method) for a whole module; a test puts a fresh
    one in ``holder[0]`` so each starts from the same vendor state on the same URL."""
    holder = [make()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await holder[0].app()(scope, receive, send)

    with serve(app) as url:
        yield holder, url


@contextmanager
def session_on(url: str, name: str, vendor: str, connector: Any, **settings: Any) -> Iterator[Any]:
    """A crmql Session whose connection ``name`` is ``connector`` at ``url`` (no retries unless
    ``settings`` say otherwise)."""
    from crmql.api.config import Config, ConnectionConfig
    from crmql.api.session import Session

    options = {"base_url": url, "max_attempts": 1, **settings}
    session = Session(Config({name: ConnectionConfig(name, vendor, options)}, source="test"))
    session._connectors[name] = connector(name, dict(options))
    try:
        yield session
    finally:
        session.close()


def vendor_fixtures(make: Any, connector: Any, name: str, *, fixture: str, vendor: str | None = None,
                    setup: Any = None, **settings: Any) -> tuple[Any, Any]:
    """The two fixtures of a test module that plays a vendor: ``served`` (module scope: ``make()``
    served once, see :func:`serve_fresh`) and ``fixture`` (per test: a fresh ``make()`` on that URL
    and a session whose connection ``name`` is ``connector``, as ``(vendor, session)``; ``setup()``
    runs first). Assign both at module level: ``served, links = vendor_fixtures(Vendor,
    LinksConnector, "links", fixture="links")``."""
    import pytest

    @pytest.fixture(scope="module", name="served")
    def served_fixture() -> Iterator[tuple[list[Any], str]]:
        with serve_fresh(make) as served:
            yield served

    @pytest.fixture(name=fixture)
    def fresh(served: tuple[list[Any], str]) -> Iterator[tuple[Any, Any]]:
        holder, url = served
        holder[0] = make()
        if setup is not None:
            setup()
        with session_on(url, name, vendor or name, connector, **settings) as session:
            yield holder[0], session

    return served_fixture, fresh


class InFlight:
    """Requests whose path matches ``pattern`` being served at once (counted around the sandbox's
    middleware, so an injected latency counts as being served), and the most at any moment."""

    def __init__(self, pattern: str) -> None:
        self.pattern, self.now, self.most = re.compile(pattern), 0, 0

    def install(self, monkeypatch: Any) -> InFlight:
        """Count around the sandbox's middleware for the test (``monkeypatch`` undoes it)."""
        from crmql.sandbox.core.server import SandboxMiddleware

        monkeypatch.setattr(SandboxMiddleware, "__call__", self.wrap(SandboxMiddleware.__call__))
        return self

    def wrap(self, original: Any) -> Any:
        async def counting(middleware: Any, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or not self.pattern.search(scope["path"]):
                return await original(middleware, scope, receive, send)
            self.now += 1  # (the server's one event loop: no lock needed)
            self.most = max(self.most, self.now)
            try:
                return await original(middleware, scope, receive, send)
            finally:
                self.now -= 1
        return counting
