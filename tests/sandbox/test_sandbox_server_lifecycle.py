"""The sandbox server's edges (issue 9, points 20 and 21): a client that goes away mid-request is
normal (no traceback, status 499 in the request log), and a busy port is a clear error before
anything says the sandbox serves.

The disconnect test runs the server in a child process, as the shell does (in-process, uvicorn's
loggers unconfigured), so a traceback printed by logging's last-resort handler would be seen on
its stderr.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crmql.errors import ConfigError, CrmqlError
from crmql.sandbox import PortInUseError, bind, serve_forever

REPO = Path(__file__).resolve().parents[2]

_CHILD = textwrap.dedent('''
    import json, socket, sys, time
    import httpx
    from crmql.sandbox import CREDENTIALS, SandboxSettings, serve_in_thread

    server = serve_in_thread(SandboxSettings(latency_ms=300))
    host, port = server.url.split("//")[1].rsplit(":", 1)
    az = CREDENTIALS["azavista"]
    token = httpx.post(server.url + "/azavista/3.0/oauth/token", data={
        "grant_type": "client_credentials", "client_id": az["client_id"],
        "client_secret": az["client_secret"]}).json()["access_token"]
    server.reset_log()
    body = json.dumps({"limit": 5}).encode()
    for path, auth in [("/azavista/3.0/oauth/token", ""), ("/azavista/3.1/contact/search", token),
                       ("/azavista/3.0/event/search", token)]:
        s = socket.create_connection((host, int(port)))
        s.sendall(f"POST {path} HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\n"
                  f"Content-Length: {len(body)}\\r\\nAuthorization: Bearer {auth}\\r\\n\\r\\n".encode() + body)
        time.sleep(0.05)  # the server is still in its latency sleep: the body is not read yet
        s.close()
    time.sleep(1.0)  # every handler has woken up and met the disconnect
    ok = httpx.post(server.url + "/azavista/3.0/event/search", json={"limit": 1},
                    headers={"Authorization": f"Bearer {token}"})
    print(json.dumps({"log": server.request_log, "after": ok.status_code}))
''')


def test_client_disconnect_mid_request_is_quiet_and_logged_499() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=60, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    import json

    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # before the fix: 3 x ~50 lines of starlette ClientDisconnect traceback on stderr, status 500
    assert proc.stderr == "", proc.stderr
    statuses = [status for _, _, status in result["log"]]
    assert statuses[:3] == [499, 499, 499], result["log"]
    assert result["after"] == 200  # the server goes on


def test_busy_port_is_a_port_in_use_error_naming_the_port() -> None:
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(PortInUseError) as info:
            bind("127.0.0.1", port)
        error = info.value
        assert isinstance(error, ConfigError) and isinstance(error, CrmqlError) and error.exit_code == 2
        assert f"127.0.0.1:{port}" in str(error) and "already in use" in str(error) and "--port" in str(error)
    finally:
        taken.close()


def test_an_address_that_cannot_be_bound_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        bind("192.0.2.1", 0)  # TEST-NET-1: never a local address
    assert "192.0.2.1" in str(info.value) and "--host" in str(info.value)


def test_serve_forever_fails_before_saying_it_serves() -> None:
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    ready: list[str] = []
    try:
        with pytest.raises(PortInUseError):
            serve_forever(host="127.0.0.1", port=port, on_ready=ready.append)
    finally:
        taken.close()
    assert ready == []


def _free_port_holder() -> socket.socket:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    return holder


def test_cli_sandbox_serve_on_a_busy_port_exits_2_without_saying_it_serves(tmp_path: Path) -> None:
    """Needs the small change in crmql/cli.py's ``_sandbox serve`` (print from ``on_ready``)."""
    holder = _free_port_holder()
    port = holder.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMQL_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO))
    try:
        proc = subprocess.run([sys.executable, "-m", "crmql", "sandbox", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=60, env=env, cwd=REPO)
    finally:
        holder.close()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert f"127.0.0.1:{port}" in proc.stderr and "already in use" in proc.stderr and "--port" in proc.stderr
    assert "serving" not in proc.stderr and "internal error" not in proc.stderr and "Traceback" not in proc.stderr


def test_uvicorn_error_records_become_one_line_without_traceback(caplog: pytest.LogCaptureFixture):
    """The in-process sandbox's uvicorn errors: one line under crmql's logger, the traceback at debug only."""
    import logging

    from starlette.requests import ClientDisconnect

    from crmql.sandbox.core.server import _uvicorn_server, build_app

    _uvicorn_server(build_app())  # installs the bridge on uvicorn.error
    uvicorn_log = logging.getLogger("uvicorn.error")
    caplog.set_level(logging.INFO, logger="crmql.sandbox.core.server")
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    for exc in (ClientDisconnect(), RuntimeError("simulator bug")):
        try:
            raise exc
        except Exception:
            uvicorn_log.error("Exception in ASGI application\n", exc_info=True)
    records = [(r.name, r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert records == [("crmql.sandbox.core.server", "ERROR", "sandbox: Exception in ASGI application: simulator bug", False)]
