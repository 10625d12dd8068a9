"""A Voyzu async job that never ends (the simulator's ``jobs.stalled``: it stays at 90%) cancelled
by the user, in the two places a user waits on one:

* the shell in a real pseudo-terminal (pexpect): the progress line shows the async job's percent
  and the vendor's commentary; Ctrl-C brings the prompt back with "cancelled", no traceback, the
  polls stop, and the next query runs;
* the notebook magic on a real Jupyter kernel: a kernel interrupt ends the cell with a
  ``UsageError`` saying "cancelled", the polls stop, and the kernel stays usable.

(No cancel endpoint is documented: the vendor's job is a read and is left to finish.)
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmql.connectors.rest import AsyncJob
from crmql.sandbox import SandboxServer

from cli_support import cli_environment
from vendors.voyzu.support import FAST, STATUS_PATHS, V, calls, config_file, fast_async, reset, stall

pexpect = pytest.importorskip("pexpect")
jupyter_client = pytest.importorskip("jupyter_client")

from kernel_support import started_kernel  # noqa: E402

SLOW = f"SELECT id FROM {V}.contacts WHERE last_name LIKE 'Sch%'"
POLLS = STATUS_PATHS["request-status"]
#: the shell's prompt (the default connection's name)
PROMPT = r"\w+> "


@pytest.fixture
def stalled(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox with every async job stuck at 90%."""
    reset(sandbox_server)
    fast_async(sandbox_server)
    stall(sandbox_server)
    yield sandbox_server
    reset(sandbox_server)


def _polls_stopped(server: SandboxServer, part: str, quiet_s: float) -> None:
    """No request to ``part`` for ``quiet_s`` seconds once a poll sent before the cancel has landed.

    A poll loop the cancel missed polls at least once every ``AsyncJob.max_wait_s`` (the longest
    wait between polls, 5 s): a ``quiet_s`` past it proves the polls stopped; a shorter one only
    catches the fast polls of a job stuck at 90% (its waits follow its PercentComplete)."""
    time.sleep(0.5)
    before = len(calls(server, part))
    time.sleep(quiet_s)
    after = len(calls(server, part))
    assert after == before, f"{after - before} polls to {part} after the cancel"


def test_ctrl_c_in_the_shell_cancels_the_job_poll(stalled: SandboxServer, tmp_path: Path) -> None:
    config = config_file(tmp_path / "crmql.toml", stalled.url, **dict(FAST), **{"async": "always"})
    env = cli_environment(tmp_path)
    env.update(TERM="xterm", COLUMNS="120", LINES="40", PAGER="cat", PROMPT_TOOLKIT_NO_CPR="1",
               CRMQL_HISTORY=str(tmp_path / "history"), NO_COLOR="1")
    log = io.StringIO()
    child = pexpect.spawn(sys.executable, ["-m", "crmql", "--config", str(config)], env=env, encoding="utf-8",
                          dimensions=(40, 120), timeout=30)
    child.logfile_read = log
    try:
        child.expect(PROMPT)
        child.send(SLOW + ";\r")
        # the live progress line (shown after 0.5 s): the job's percent and the vendor's commentary
        child.expect(r"async \w+ 90% · [A-Z][a-z]+")
        child.sendintr()
        child.expect_exact("cancelled")
        child.expect(PROMPT)
        assert "Traceback" not in log.getvalue(), log.getvalue()[-3000:]
        _polls_stopped(stalled, POLLS, 1.0)  # (the kernel test waits past the longest poll wait)
        stall(stalled, False)
        child.send(f"SELECT COUNT(*) AS n FROM {V}.spreadsheets;\r")  # the shell goes on
        child.expect_exact("12")
        child.expect(PROMPT)
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert "Traceback" not in log.getvalue(), log.getvalue()[-3000:]


@pytest.fixture
def kernel(tmp_path: Path) -> Any:
    """A real kernel on Unix sockets (as ``tests/magic/test_magic_kernel.py`` starts one)."""
    with started_kernel(tmp_path) as pair:
        yield pair


def _reply(kc: Any, msg_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def test_a_kernel_interrupt_cancels_the_job_poll(kernel: Any, stalled: SandboxServer, tmp_path: Path) -> None:
    km, kc = kernel
    config = config_file(tmp_path / "crmql.toml", stalled.url, **dict(FAST), **{"async": "always"})
    reply = _reply(kc, kc.execute(f"%load_ext crmql\n%config Crmql.config_file = {str(config)!r}"), 60)
    assert reply["content"]["status"] == "ok", reply["content"]
    msg_id = kc.execute(f"slow = %crmql {SLOW}")
    deadline = time.monotonic() + 30
    while len(calls(stalled, POLLS)) < 2:  # the job was submitted and is being polled
        assert time.monotonic() < deadline, stalled.request_log[-5:]
        time.sleep(0.1)
    km.interrupt_kernel()
    reply = _reply(kc, msg_id, 30)["content"]
    assert reply["status"] == "error" and reply["ename"] == "UsageError", reply
    assert "cancelled" in reply["evalue"], reply["evalue"]
    _polls_stopped(stalled, POLLS, AsyncJob().max_wait_s + 0.5)
    stall(stalled, False)
    reply = _reply(kc, kc.execute(f"n = %crmql SELECT COUNT(*) AS n FROM {V}.spreadsheets\n"
                                  "assert int(n['n'][0]) == 12 and 'slow' not in dir()"), 60)["content"]
    assert reply["status"] == "ok", reply
