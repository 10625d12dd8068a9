"""Atomic writes: a failed or cancelled export leaves no file (and no temporary file) behind, and
never replaces an existing file with a partial one; a successful one replaces it whole."""

from __future__ import annotations

import _thread
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from export_helpers import synthetic_session

import crmql.export as export
from crmql.errors import CrmqlError, ExportError, VendorHTTPError

OLD = b"the old file, which must survive\n"


def entries(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


@pytest.fixture
def target(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "contacts.csv").write_bytes(OLD)
    return out / "contacts.csv"


class Written:
    """Counts the bytes the writer had written when the failure came."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.batches = 0
        original = export.Writer.write

        def write(writer: Any, frame: Any) -> None:
            original(writer, frame)
            writer.out.flush()
            self.batches += 1

        monkeypatch.setattr(export.Writer, "write", write)


def test_vendor_failure_after_the_first_page(make_session: Any, sandbox: Any, target: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The first page arrives (and is written), then the vendor answers 503 until the retries are spent."""
    monkeypatch.setattr("crmql.exec.executor.STREAM_BATCH_ROWS", 50)  # write every page as it arrives
    written = Written(monkeypatch)
    session = make_session(retry_base_s=0.001, retry_cap_s=0.002, max_attempts=2)
    sandbox.settings.faults = "503@" + "+".join(str(n) for n in range(2, 1000))
    with pytest.raises(VendorHTTPError) as info:
        session.execute(f"COPY (SELECT * FROM azavista.contacts) TO '{target}'")
    assert "503" in str(info.value)
    assert written.batches >= 1  # rows had been written to the temporary file
    assert entries(target.parent) == ["contacts.csv"] and target.read_bytes() == OLD
    sandbox.settings.faults = ""
    session.execute(f"COPY (SELECT * FROM azavista.organizations) TO '{target}'")  # and it works again
    assert target.read_bytes().startswith(b"id,name,")


def test_failure_writing_a_later_batch(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    original = export.CsvWriter._write

    def failing(writer: Any, frame: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        original(writer, frame)

    monkeypatch.setattr(export.CsvWriter, "_write", failing)
    session = synthetic_session(20_000)
    try:
        with pytest.raises(ExportError, match="No space left on device"):
            session.execute(f"COPY (SELECT * FROM synthetic.rows) TO '{target}'")
    finally:
        session.close()
    assert entries(target.parent) == ["contacts.csv"] and target.read_bytes() == OLD


def test_failure_of_the_source_mid_scan(target: Path) -> None:
    session = synthetic_session(20_000, fail_after_pages=9)
    try:
        with pytest.raises(VendorHTTPError):
            session.execute(f"COPY (SELECT * FROM synthetic.rows) TO '{target}' WITH (FORMAT parquet)")
    finally:
        session.close()
    assert entries(target.parent) == ["contacts.csv"] and target.read_bytes() == OLD


def test_cancel_mid_export(make_session: Any, sandbox: Any, target: Path) -> None:
    session = make_session()
    sandbox.settings.latency_ms = 100
    timer = threading.Timer(0.8, _thread.interrupt_main)
    timer.start()
    with pytest.raises((KeyboardInterrupt, CrmqlError)):
        session.execute(f"COPY (SELECT * FROM azavista.contacts) TO '{target}'")
    timer.join()
    assert entries(target.parent) == ["contacts.csv"] and target.read_bytes() == OLD


def test_a_failing_write_frame_leaves_nothing(tmp_path: Path) -> None:
    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("cannot show this value")

    frame = pd.DataFrame({"a": ["ok", Bad()]})
    with pytest.raises(RuntimeError):
        export.write_frame(frame, tmp_path / "bad.csv")
    assert entries(tmp_path) == []


def test_success_replaces_the_file_keeping_its_mode(session: Any, target: Path) -> None:
    os.chmod(target, 0o640)
    session.execute(f"COPY (SELECT name FROM azavista.organizations) TO '{target}'")
    assert target.read_bytes().startswith(b"name\r\n") and len(target.read_bytes().splitlines()) == 501
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert entries(target.parent) == ["contacts.csv"]


def test_a_new_file_gets_the_umask_mode(session: Any, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        session.execute(f"COPY (SELECT name FROM azavista.organizations LIMIT 1) TO '{tmp_path / 'n.csv'}'")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.csv").stat().st_mode) == 0o644


def test_atomic_file_directly(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    with pytest.raises(ValueError):
        with export.atomic_file(path) as f:
            f.write(b"partial")
            raise ValueError("stop")
    assert entries(tmp_path) == []
    with export.atomic_file(path) as f:
        f.write(b"whole")
    assert path.read_bytes() == b"whole" and entries(tmp_path) == ["x.bin"]
