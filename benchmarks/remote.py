"""The sandbox in its own process, as a real vendor is: its work no longer shares the benchmark
process (and its GIL) with the clients being measured. The request log, which the benchmark
counts requests from, is read over HTTP (``/_sandbox/log``).

>>> server = ProcessSandbox(latency_ms=0)  # doctest: +SKIP
>>> server.reset_log(); server.request_log  # doctest: +SKIP
[]
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time

import httpx

__all__ = ["ProcessSandbox"]

#: how long the sandbox process may take to answer its first request
START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ProcessSandbox:
    """``crmql sandbox serve`` on a free loopback port, with the interface of an in-thread
    :class:`~crmql.sandbox.SandboxServer` that the benchmark uses (``url``, ``request_log``,
    ``reset_log()``, ``stop()``)."""

    def __init__(self, latency_ms: float) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "crmql", "sandbox", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--latency-ms", str(latency_ms)],
            stdout=subprocess.DEVNULL, stderr=self._errors)
        self._http = httpx.Client(base_url=self.url, timeout=10)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if self._http.get("/_sandbox/log").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                self._errors.seek(0)
                raise RuntimeError(f"the sandbox process did not start: {self._errors.read().decode()[-2000:]}")
            time.sleep(0.1)

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """``(method, path, status)`` of every vendor API request since the last reset."""
        return [(m, p, int(s)) for m, p, s in self._http.get("/_sandbox/log").json()]

    def reset_log(self) -> None:
        self._http.delete("/_sandbox/log").raise_for_status()

    def stop(self) -> None:
        self._http.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
                self._proc.kill()
        self._errors.close()
