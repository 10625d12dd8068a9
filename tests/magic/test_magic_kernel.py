"""The magic on a real Jupyter kernel: interrupting the kernel cancels a running scan cleanly and the
kernel stays usable; results display as HTML with the caption; errors are a UsageError, no traceback."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kernel_support import started_kernel

jupyter_client = pytest.importorskip("jupyter_client")


@pytest.fixture
def kernel(tmp_path: Path) -> Any:
    with started_kernel(tmp_path) as pair:
        yield pair


def execute(kc: Any, code: str, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``code``; return the reply's content and the iopub messages of the execution."""
    msg_id = kc.execute(code)
    outputs = []
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append(msg)
    return shell_reply(kc, msg_id, max(1.0, deadline - time.monotonic()))["content"], outputs


def shell_reply(kc: Any, msg_id: str, timeout: float) -> dict[str, Any]:
    """The shell channel's reply to ``msg_id`` (skipping stray replies, e.g. to kernel_info)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def test_interrupt_cancels_the_scan_and_the_kernel_stays_usable(kernel: Any, sandbox: Any, write_config: Any,
                                                                tmp_path: Path) -> None:
    km, kc = kernel
    config = write_config(tmp_path, sandbox.url)
    reply, _ = execute(kc, f"%load_ext crmql\n%config Crmql.config_file = {str(config)!r}")
    assert reply["status"] == "ok"

    reply, outputs = execute(kc, "%crmql SELECT name FROM azavista.events WHERE event_type = 'sales'")
    assert reply["status"] == "ok"
    results = [m for m in outputs if m["msg_type"] == "execute_result"]
    assert "crmql-caption" in results[0]["content"]["data"]["text/html"]
    assert "364 rows" in results[0]["content"]["data"]["text/plain"]

    reply, outputs = execute(kc, "%crmql SELECT nme FROM azavista.events")
    assert reply["status"] == "error" and reply["ename"] == "UsageError"
    assert "did you mean" in reply["evalue"]
    assert not any("Traceback" in "".join(m["content"].get("traceback", [])) for m in outputs)

    sandbox.settings.latency_ms = 200
    msg_id = kc.execute("slow = %crmql SELECT * FROM azavista.contacts")
    time.sleep(2.0)  # the kernel has started the scan (it takes ~5 s at this latency)
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id, 30)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "UsageError" and "cancelled" in reply["content"]["evalue"]
    seen = len(sandbox.request_log)
    time.sleep(1.0)
    assert len(sandbox.request_log) - seen <= 8  # the scan stopped

    sandbox.settings.latency_ms = 0
    reply, outputs = execute(kc, "n = %crmql SELECT COUNT(*) AS n FROM azavista.organizations\nprint(int(n['n'][0]), 'slow' in dir())")
    assert reply["status"] == "ok"
    printed = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
    assert printed.strip() == "500 False"
