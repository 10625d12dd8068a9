"""Exports to special files (issue 9, point 15): a FIFO, a character device or a file descriptor's
path is written directly, never replaced by a regular file; a block device or a socket is refused;
a SIGTERM mid-export removes the temporary file as Ctrl-C does, then ends the process by SIGTERM.

The tests that write to the real ``/dev/null`` and ``/dev/stdout`` sit in this module, whose import
of :func:`descriptor_of` fails on code older than the fix: run as root, that code would have put a
regular file in their place.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import crmql.export as export
from crmql.errors import ExportError
from crmql.export.files import descriptor_of

FRAME = pd.DataFrame({"name": ["a", "b"], "n": [1, 2]})
CSV = b"name,n\r\na,1\r\nb,2\r\n"


def _mknod(path: Path, kind: int, device: tuple[int, int]) -> Path:
    try:
        os.mknod(path, kind | 0o666, os.makedev(*device))
    except (PermissionError, AttributeError, OSError) as e:
        pytest.skip(f"cannot create a device node here: {e}")
    return path


def test_descriptor_paths() -> None:
    assert [descriptor_of(p) for p in ("/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/fd/5",
                                       "/proc/self/fd/12", "/dev/./stdout")] == [1, 2, 0, 5, 12, 1]
    assert [descriptor_of(p) for p in ("/dev/null", "/dev/fd/x", "stdout", "/dev/fd/")] == [None] * 4


def test_a_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    export.write_frame(FRAME, fifo)
    reader.join(10)
    assert got == [CSV]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary file either


def test_a_character_device_is_written_not_replaced(tmp_path: Path) -> None:
    null = _mknod(tmp_path / "null", stat.S_IFCHR, (1, 3))  # what /dev/null is
    export.write_frame(FRAME, null, format="jsonl")
    assert null.is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_copy_to_dev_null_keeps_the_device(session: Any) -> None:
    result = session.execute("COPY (SELECT name FROM azavista.organizations LIMIT 3) TO '/dev/null'")
    assert result.text == "COPY 3 rows to /dev/null (csv)"
    assert Path("/dev/null").is_char_device()
    export.write_frame(FRAME, "/dev/null")
    assert Path("/dev/null").is_char_device()


def test_copy_to_dev_stdout_writes_to_the_open_descriptor(session: Any, capfd: pytest.CaptureFixture[str]) -> None:
    print("before", flush=True)
    session.execute("COPY (SELECT name FROM azavista.organizations ORDER BY name LIMIT 2) TO '/dev/stdout'")
    out = capfd.readouterr().out
    assert out.startswith("before\nname\r\n") and out.count("\r\n") == 3
    assert Path("/dev/stdout").is_symlink() or Path("/dev/stdout").exists()


def test_a_file_descriptor_path(tmp_path: Path) -> None:
    read, write = os.pipe()
    try:
        export.write_frame(FRAME, f"/dev/fd/{write}")
        os.write(write, b"still open")  # ours was a duplicate: the caller's descriptor stays open
        os.close(write)
        with os.fdopen(read, "rb") as f:
            assert f.read() == CSV + b"still open"
    finally:
        for fd in (read, write):
            try:
                os.close(fd)
            except OSError:
                pass
    with pytest.raises(ExportError, match="file descriptor"):
        export.write_frame(FRAME, "/dev/fd/987654")


def test_a_block_device_or_a_socket_is_refused(tmp_path: Path) -> None:
    sock_path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock_path))
        with pytest.raises(ExportError, match="it is a socket"):
            export.write_frame(FRAME, sock_path)
    finally:
        server.close()
    assert stat.S_ISSOCK(sock_path.stat().st_mode)
    block = _mknod(tmp_path / "disk.csv", stat.S_IFBLK, (7, 200))
    with pytest.raises(ExportError, match="block device"):
        export.write_frame(FRAME, block)
    assert block.is_block_device()


def test_a_symlink_to_a_file_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_bytes(b"old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    export.write_frame(FRAME, link)
    assert link.is_symlink() and real.read_bytes() == CSV
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def _cli(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "crmql", *args], env=env, **kwargs)


def test_output_to_dev_stdout_redirected_to_a_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    """``crmql ... --output /dev/stdout > file``: the rows go to the redirected stdout without
    truncating what was there (a reopen would have)."""
    out = tmp_path / "out.txt"
    with open(out, "wb") as f:
        f.write(b"kept\n")
        f.flush()
        proc = _cli(["-e", "SELECT name FROM azavista.organizations ORDER BY name LIMIT 2", "--output", "/dev/stdout"],
                    cli_env, stdout=f, stderr=subprocess.PIPE)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    data = out.read_bytes()
    assert data.startswith(b"kept\nname\r\n") and data.count(b"\r\n") == 3
    assert Path("/dev/stdout").exists()


def test_sigterm_mid_export_leaves_no_temporary_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    """SIGINT already cleaned up; SIGTERM left ``.out.csv.XXXX.tmp`` behind."""
    target = tmp_path / "out" / "contacts.csv"
    target.parent.mkdir()
    target.write_bytes(b"old")
    env = dict(cli_env, CRMQL_SANDBOX_LATENCY_MS="200")
    proc = _cli(["-e", "SELECT * FROM azavista.contacts", "--output", str(target)], env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(".tmp") for p in target.parent.iterdir()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the export never started"
            time.sleep(0.05)
        time.sleep(0.5)  # pages are being fetched and written
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGTERM
    assert sorted(p.name for p in target.parent.iterdir()) == ["contacts.csv"]
    assert target.read_bytes() == b"old"
