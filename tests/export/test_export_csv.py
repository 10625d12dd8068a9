"""CSV export: RFC 4180 (quoting, embedded quotes and newlines, CRLF), UTF-8, a header row,
ISO-8601 times, an empty field for NULL, nothing but data; round trips through pandas; hostile
values; SAFE; HEADER and DELIMITER; the options' errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from export_helpers import HOSTILE, assert_same_rows, read_csv_like

from crmql.errors import ExportError, QueryError
from crmql.export import ExportOptions, frame_bytes, write_frame
from crmql.exec.formats import render

EVENTS = "SELECT id, name, event_type, start, is_virtual, capacity, price, city FROM azavista.events"


def test_copy_round_trips_through_pandas(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    result = session.execute(f"COPY ({EVENTS}) TO '{path}'")
    frame = session.query(EVENTS)
    assert result.kind == "copy" and result.frame is None
    assert result.text == f"COPY {len(frame)} rows to {path} (csv)" and result.stats.rows == len(frame)
    assert_same_rows(read_csv_like(path, frame), frame)


def test_rfc4180_shape(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    session.execute(f"COPY ({EVENTS} WHERE event_type = 'sales') TO '{path}' WITH (FORMAT csv, HEADER true)")
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")  # no BOM
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["id", "name", "event_type", "start", "is_virtual", "capacity", "price", "city"]
    assert len(rows) == 1 + 364  # a header and the rows: no status line
    assert all(len(r) == 8 for r in rows)
    start = rows[1][3]
    assert start.endswith("Z") and start[10] == "T"  # ISO-8601, UTC
    assert {r[4] for r in rows[1:]} <= {"true", "false"}


def test_null_is_an_empty_field(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    session.execute(f"COPY (SELECT id, external_id, organization_id FROM azavista.contacts LIMIT 5) TO '{path}'")
    lines = path.read_bytes().decode().split("\r\n")
    assert lines[1].endswith(",,") or ",," in lines[1]


HOSTILE_FRAME = pd.DataFrame({
    "text": [v for v in HOSTILE],
    "n": list(range(-5, len(HOSTILE) - 5)),
})


def test_hostile_values_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    write_frame(HOSTILE_FRAME, path)
    raw = path.read_bytes().decode("utf-8")
    assert '"say ""hi"", then\nleave"' in raw and '"a\r\nb"' in raw and "Zoë ✓ 東京" in raw
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert [r[0] for r in rows[1:]] == [v if v is not None else "" for v in HOSTILE]
    back = read_csv_like(path, HOSTILE_FRAME)
    expected = HOSTILE_FRAME.assign(text=[v if v else None for v in HOSTILE])  # "" and NULL are both empty
    assert_same_rows(back, expected)


def test_hostile_values_through_a_real_copy(session: Any, tmp_path: Path) -> None:
    for i, value in enumerate(v for v in HOSTILE if v):
        path = tmp_path / f"h{i}.csv"
        session.execute(f"COPY (SELECT :v AS note, name FROM azavista.events LIMIT 3) TO '{path}'", {"v": value})
        back = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert back["note"].tolist() == [value] * 3


def test_safe_neutralizes_formulas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"=cmd": ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b", None], "n": range(-4, 5)})
    text = frame_bytes(frame, "csv", safe=True).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["'=cmd", "n"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b", ""]
    assert [r[1] for r in rows[1:]] == [str(n) for n in range(-4, 5)]  # numbers stay numbers
    unsafe = list(csv.reader(io.StringIO(frame_bytes(frame, "csv").decode(), newline="")))
    assert unsafe[1][0] == "=1+1"


def test_safe_in_copy(session: Any, tmp_path: Path) -> None:
    path = tmp_path / "safe.csv"
    session.execute(f"COPY (SELECT :f AS note FROM azavista.events LIMIT 2) TO '{path}' WITH (SAFE true)",
                    {"f": '=HYPERLINK("http://x", "y")'})
    assert path.read_bytes() == b'note\r\n"\'=HYPERLINK(""http://x"", ""y"")"\r\n' * 1 + \
        b'"\'=HYPERLINK(""http://x"", ""y"")"\r\n'


@pytest.mark.parametrize("options, delimiter, header", [
    ("WITH (HEADER false)", ",", False),
    ("WITH (DELIMITER ';')", ";", True),
    ("WITH (FORMAT csv, DELIMITER '\\t', HEADER false)", "\t", False),
    ("WITH (delimiter '|', header 'on')", "|", True),
])
def test_header_and_delimiter(session: Any, tmp_path: Path, options: str, delimiter: str, header: bool) -> None:
    path = tmp_path / "out.csv"
    session.execute(f"COPY (SELECT name, city FROM azavista.events WHERE event_type = 'sales') TO '{path}' {options}")
    frame = session.query("SELECT name, city FROM azavista.events WHERE event_type = 'sales'")
    back = pd.read_csv(path, sep=delimiter, header=0 if header else None, names=None if header else ["name", "city"],
                       dtype=str, keep_default_na=False, na_values=[""])
    assert_same_rows(back, frame)


def test_format_from_the_extension(session: Any, tmp_path: Path) -> None:
    for name, first in (("a.csv", b"name,city\r\n"), ("a.jsonl", b'{"name": '), ("a", b"name,city\r\n"),
                        ("a.tsv", b"name\tcity\r\n")):
        session.execute(f"COPY (SELECT name, city FROM azavista.events LIMIT 1) TO '{tmp_path / name}'")
        assert (tmp_path / name).read_bytes().startswith(first)
    with pytest.raises(QueryError, match="cannot tell the format of a.unknown"):  # not a silent CSV
        session.execute(f"COPY (SELECT name FROM azavista.events LIMIT 1) TO '{tmp_path / 'a.unknown'}'")
    session.execute(f"COPY (SELECT name FROM azavista.events LIMIT 1) TO '{tmp_path / 'b.csv'}' WITH (FORMAT jsonl)")
    assert (tmp_path / "b.csv").read_bytes().startswith(b'{"name": ')


@pytest.mark.parametrize("options, message", [
    ("WITH (FORMAT xlsx)", "unknown export format"),
    ("WITH (FORMT csv)", "unknown COPY option FORMT"),
    ("WITH (FORMAT csv, FORMAT csv)", "given twice"),
    ("WITH (HEADER maybe)", "HEADER must be true or false"),
    ("WITH (DELIMITER ';;')", "one character"),
    ("WITH (DELIMITER '\"')", "DELIMITER cannot be"),
    ("WITH (FORMAT parquet, SAFE true)", "SAFE applies to CSV only"),
    ("WITH (FORMAT jsonl, HEADER false)", "HEADER applies to CSV only"),
])
def test_bad_options(session: Any, tmp_path: Path, options: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        session.execute(f"COPY (SELECT name FROM azavista.events) TO '{tmp_path / 'x.csv'}' {options}")
    assert list(tmp_path.iterdir()) == []


def test_bad_paths(session: Any, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        session.execute(f"COPY (SELECT name FROM azavista.events) TO '{tmp_path / 'no' / 'x.csv'}'")
    with pytest.raises(ExportError, match="is a directory"):
        session.execute(f"COPY (SELECT name FROM azavista.events) TO '{tmp_path}'")


def test_csv_matches_the_cli_csv_format(session: Any) -> None:
    frame = session.query(EVENTS + " WHERE event_type = 'sales'")
    assert frame_bytes(frame, "csv") == render(frame, "csv").encode("utf-8")


def test_options_from_copy() -> None:
    o = ExportOptions.from_copy("x.tsv", [("delimiter", "\\t"), ("header", False)])
    assert (o.format, o.delimiter, o.header, o.safe) == ("csv", "\t", False, False)
    assert ExportOptions.from_copy("x.tsv", [("delimiter", ";")]).delimiter == ";"
    assert ExportOptions.from_copy("x.parquet", []).format == "parquet"
