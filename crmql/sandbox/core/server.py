"""The sandbox HTTP server: app assembly, latency/fault middleware, uvicorn runners.

``build_app(settings)`` mounts every simulator under ``/<vendor>``, and ``/_sandbox/log``: the
request log over HTTP (GET lists ``[method, path, status]`` of every vendor API request so far,
DELETE clears it and the concurrency peaks), so a server in another process (``crmql sandbox serve``)
can be watched too; ``GET /_sandbox/concurrency``: ``{vendor: {"in_flight": n, "peak": m}}``, the
requests each vendor has in flight now and the most at once since the last reset (token requests
included, see :class:`~crmql.sandbox.core.state.ConcurrencyMeter`).
``serve_in_thread()`` runs it with uvicorn on a daemon thread (own event
loop) and returns a :class:`SandboxServer`; ``serve_forever()`` runs it in the
calling thread (used by ``crmql sandbox serve``).

The socket is bound before anything says it serves: :func:`bind` turns a busy port into a
:class:`PortInUseError` (exit 2) naming the port. A client that goes away mid-request (Ctrl-C on a
running query) is normal: it is logged at debug level and recorded with status 499, never a
traceback; uvicorn's own error records are re-logged under this module's logger, one line each,
their traceback at debug level only.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any, Callable
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...errors import ConfigError
from .faults import parse_fault_spec, response_fault
from .settings import CREDENTIALS, SandboxSettings
from .spec import SimulatorSpec, simulators
from .state import LogEntry, SandboxState, json_error

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765


class ConnectionDropped(Exception):
    """Raised inside the ASGI app to make uvicorn abort the connection (``drop`` fault)."""


#: status recorded in the request log for a request whose client went away (nginx's convention)
CLIENT_CLOSED = 499


class PortInUseError(ConfigError):
    """The sandbox's port is taken by another process (``crmql sandbox serve`` exits 2).

    >>> print(PortInUseError("127.0.0.1", 8765))
    cannot serve the sandbox on 127.0.0.1:8765: the port is already in use
      hint: stop what is using it, or pick another port: crmql sandbox serve --port 8766 (--port 0: any free port)
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        super().__init__(f"cannot serve the sandbox on {host}:{port}: the port is already in use",
                         hint=f"stop what is using it, or pick another port: crmql sandbox serve --port {port + 1}"
                              " (--port 0: any free port)")


class _UvicornLogBridge(logging.Filter):
    """uvicorn's error records, re-logged under this module's logger without their traceback.

    A client that went away (:class:`ClientDisconnect`) or a deliberately dropped connection is
    normal: debug level only. Any other record with an exception becomes one line at its level,
    the traceback at debug level (``--debug``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        if isinstance(exc, (ConnectionDropped, ClientDisconnect)):
            logger.debug("sandbox: %s (%s)", record.getMessage().strip(), type(exc).__name__)
            return False
        logger.log(record.levelno, "sandbox: %s: %s", record.getMessage().strip(), str(exc) or type(exc).__name__)
        logger.debug("sandbox: traceback", exc_info=record.exc_info)
        return False


_uvicorn_bridge = _UvicornLogBridge()


#: fault kinds with bodies of their own (``ErrorMessage``, as custom 540/541 codes carry; 504: AWS API Gateway's own body)
_VENDOR_FAULTS = {"402": {"ErrorMessage": "This operation requires a paid subscription"},
                  "504": {"message": "Endpoint request timed out"},
                  "540": {"ErrorMessage": "Injected error"},
                  "541": {"ErrorMessage": "Injected router error"}}


def _fault_response(kind: str, settings: SandboxSettings) -> Response:
    if kind == "429":
        return json_error(429, {"error": "rate_limited", "message": "Too many requests"},
                          headers={"Retry-After": settings.retry_after})
    if kind in _VENDOR_FAULTS:
        return json_error(int(kind), _VENDOR_FAULTS[kind])
    messages = {"500": "Internal server error", "502": "Bad gateway", "503": "Service unavailable"}
    names = {"500": "internal_error", "502": "bad_gateway", "503": "service_unavailable"}
    return json_error(int(kind), {"error": names[kind], "message": messages[kind]})


class SandboxMiddleware:
    """Adds latency, injects faults and logs every vendor API request."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state
        self.vendors: dict[str, SimulatorSpec] = simulators()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        prefix, _, rest = path.lstrip("/").partition("/")
        vendor = self.vendors.get(prefix)
        if vendor is None:  # /_sandbox/* and unknown prefixes: no latency, faults or log
            await self.app(scope, receive, send)
            return
        await self.state.meter.counting(
            prefix, send, lambda counted: self._vendor_request(scope, receive, counted, vendor, path, rest))

    async def _vendor_request(self, scope: Scope, receive: Receive, send: Send, vendor: SimulatorSpec,
                              path: str, rest: str) -> None:
        state, settings, method = self.state, self.state.settings, scope["method"]
        if settings.latency_ms > 0:
            await asyncio.sleep(settings.latency_ms / 1000)
        if "/" + rest not in vendor.token_paths:
            _, kinds = state.faults.next_request(settings.faults, settings.seed)
            if "expire" in kinds:
                state.tokens.revoke_all_access()
            kind = response_fault(kinds)
            if kind == "drop":
                state.log_request(method, path, 0)
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", b"4096")]})
                await send({"type": "http.response.body", "body": b'{"object_count": ',
                            "more_body": True})
                raise ConnectionDropped(f"injected drop of {method} {path}")
            if kind is not None:
                state.log_request(method, path, int(kind))
                await _fault_response(kind, settings)(scope, receive, send)
                return
        logged = False

        async def send_and_record(message: Message) -> None:
            nonlocal logged
            if message["type"] == "http.response.start" and not logged:
                # Log before the client can see the response, so tests never race the log.
                state.log_request(method, path, message["status"])
                logged = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except ClientDisconnect:  # the client went away (Ctrl-C on a query): nothing to answer
            logger.debug("sandbox: client disconnected during %s %s", method, path)
            if not logged:
                state.log_request(method, path, CLIENT_CLOSED)
        except BaseException:
            if not logged:
                state.log_request(method, path, 500)
            raise


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return json_error(exc.status_code, {"error": error, "message": str(exc.detail)},
                      headers=dict(exc.headers or {}))


def build_app(settings: SandboxSettings | None = None, state: SandboxState | None = None) -> Starlette:
    """Build the sandbox ASGI app: each vendor simulator mounted under ``/<vendor>``.

    The live :class:`SandboxState` is available as ``app.state.sandbox``.
    """
    if state is None:
        state = SandboxState(settings if settings is not None else SandboxSettings())
    parse_fault_spec(state.settings.faults)  # fail fast on an invalid spec
    mounts = [Mount(f"/{name}", routes=spec.build_routes(state)) for name, spec in simulators().items()]
    mounts += [route for spec in simulators().values() for route in spec.build_root_routes(state)]

    async def request_log(request: Request) -> Response:
        if request.method == "DELETE":
            state.reset_log()
            return Response(status_code=204)
        return JSONResponse([list(entry) for entry in state.request_log()])

    async def concurrency(request: Request) -> Response:
        return JSONResponse({name: state.concurrency(name) for name in simulators()})

    mounts.append(Mount("/_sandbox", routes=[Route("/log", request_log, methods=["GET", "DELETE"]),
                                             Route("/concurrency", concurrency, methods=["GET"])]))
    app = Starlette(routes=mounts, middleware=[Middleware(SandboxMiddleware, state=state)],
                    exception_handlers={HTTPException: _http_error})
    app.state.sandbox = state
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` (``port`` 0: any free port).

    A busy port is a :class:`PortInUseError`; any other failure to bind (a host that is not
    local, a port that needs privileges) a :class:`~crmql.errors.ConfigError` naming the address.

    >>> sock = bind("127.0.0.1", 0)
    >>> try:
    ...     bind("127.0.0.1", sock.getsockname()[1])
    ... except PortInUseError as e:
    ...     e.exit_code
    2
    >>> sock.close()
    >>> bind("127.0.0.1", 70000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.ConfigError: cannot serve the sandbox on port 70000: a port is a number from 0 to 65535...
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        # socket.bind raises OverflowError (not OSError) for these
        raise ConfigError(f"cannot serve the sandbox on port {port}: a port is a number from 0 to 65535",
                          hint="pick another with --port (0: any free port)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # is TCP; without it every response pays a ~40 ms Nagle/delayed-ACK stall.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # SO_REUSEADDR lets a restarted server take a port still in TIME_WAIT; it never lets two
        # listening sockets share a port on Linux or macOS (that would need SO_REUSEPORT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from None
        if e.errno == errno.EACCES:
            hint = "ports below 1024 need privileges: pick another with --port"
        else:
            hint = "use a local address such as 127.0.0.1 (--host) and a free port (--port)"
        raise ConfigError(f"cannot serve the sandbox on {host}:{port}: {e.strerror or e}", hint=hint) from None
    sock.setblocking(False)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def config_hint(url: str) -> str:
    """The command that prints a config for the sandbox served at ``url`` (``--host`` only when it
    is not the default 127.0.0.1), as ``crmql sandbox serve`` says once it is ready.

    >>> config_hint("http://127.0.0.1:8765"), config_hint("http://[::1]:8765")
    ('crmql sandbox config --port 8765 > crmql.toml', 'crmql sandbox config --host ::1 --port 8765 > crmql.toml')
    """
    parts = urlsplit(url)
    host = f" --host {parts.hostname}" if parts.hostname not in (None, "127.0.0.1") else ""
    return f"crmql sandbox config{host} --port {parts.port} > crmql.toml"


def _uvicorn_server(app: Starlette) -> uvicorn.Server:
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                            loop="asyncio", lifespan="off", timeout_graceful_shutdown=2)
    uvicorn_log = logging.getLogger("uvicorn.error")
    if _uvicorn_bridge not in uvicorn_log.filters:
        uvicorn_log.addFilter(_uvicorn_bridge)
    return uvicorn.Server(config)


def connection_settings(url: str) -> dict[str, dict[str, str]]:
    """Connection settings (vendor, base_url, credentials) per vendor for a served sandbox."""
    return {name: {"vendor": name, "base_url": f"{url.rstrip('/')}/{name}", **CREDENTIALS.get(name, {})}
            for name in simulators()}


class SandboxServer:
    """A sandbox server running uvicorn on a daemon thread; also a context manager."""

    def __init__(self, settings: SandboxSettings | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings = settings if settings is not None else SandboxSettings()
        self.state = SandboxState(self.settings)
        self.app = build_app(state=self.state)
        self._sock = bind(host, port)
        self.url = _url(self._sock)
        self._server = _uvicorn_server(self.app)
        self._thread: threading.Thread | None = None

    @property
    def request_log(self) -> list[LogEntry]:
        """Snapshot of ``(method, path, status)`` of every vendor API request so far."""
        return self.state.request_log()

    def reset_log(self) -> None:
        """Clear the request log, restart the fault request numbering and the concurrency peaks."""
        self.state.reset_log()

    def concurrency(self, vendor: str) -> dict[str, int]:
        """``{"in_flight": n, "peak": m}`` of ``vendor``'s requests (see :meth:`SandboxState.concurrency`)."""
        return self.state.concurrency(vendor)

    def base_url(self, vendor: str) -> str:
        """Base URL of one vendor's simulator, e.g. ``http://127.0.0.1:54321/azavista``."""
        return f"{self.url}/{vendor}"

    def start(self, timeout: float = 10.0) -> "SandboxServer":
        """Start serving and wait until the server accepts connections."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"crmql-sandbox {self.url}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sandbox server at {self.url} failed to start")
            time.sleep(0.005)
        host, port = self._sock.getsockname()[:2]
        with socket.create_connection((host, port), timeout=timeout):
            pass
        logger.info("sandbox serving at %s", self.url)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the server thread to finish."""
        self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout)
        self._sock.close()
        logger.debug("sandbox at %s stopped", self.url)

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_in_thread(settings: SandboxSettings | None = None, host: str = "127.0.0.1",
                    port: int = 0) -> SandboxServer:
    """Start a sandbox server on a daemon thread (``port=0``: any free port) and return it."""
    return SandboxServer(settings, host, port).start()


def serve_forever(settings: SandboxSettings | None = None, host: str = "127.0.0.1",
                  port: int = DEFAULT_PORT, on_ready: Callable[[str], Any] | None = None) -> str:
    """Serve in the calling thread until interrupted (Ctrl-C / SIGTERM); return the URL.

    The socket is bound first: a busy port raises :class:`PortInUseError` before anything else.
    ``on_ready(url)`` is called once the socket is bound, before serving starts (the place to say
    where it serves).
    """
    state = SandboxState(settings if settings is not None else SandboxSettings())
    app = build_app(state=state)
    sock = bind(host, port)
    url = _url(sock)
    server = _uvicorn_server(app)
    logger.info("sandbox serving at %s", url)
    if on_ready is not None:
        on_ready(url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return url
