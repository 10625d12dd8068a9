"""Issue 11, a new user's review on the casavi sandbox: the messages it found wrong, over real HTTP.

* a double-quoted custom field the sample misses is hinted as one, not as a string literal
  (the quote advice stays where a value is expected, and on tables without dynamic columns);
* an unquoted name with a letter beyond a-z is hinted to be quoted (any vendor);
* ``CURRENT_DATE`` / ``CURRENT_TIMESTAMP`` are SQL's spellings of ``TODAY()`` / ``NOW()``;
* a bad ``custom_fields`` setting is reported like every other setting: file, connection, key;
* ``--debug`` shows a token's lifetime in whole seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from crmql.api.config import load_config, sandbox_config
from crmql.api.config_rules import FIELD_TYPES
from crmql.api.session import Session
from crmql.connectors.casavi.custom_fields import TYPE_NAMES
from crmql.errors import ConfigError, CrmqlError, QuerySyntaxError
from crmql.language.parser import parse
from crmql.sandbox import CREDENTIALS, SandboxServer

from cli_support import cli_environment, reset_sandbox, run_crmql_in_process

RARE = "Sonderkündigungsrecht"  # a custom field the casavi sample page misses


@pytest.fixture(scope="module")
def session(sandbox_server: SandboxServer) -> Iterator[Session]:
    reset_sandbox(sandbox_server)
    s = Session(sandbox_config(sandbox_server.url))
    yield s
    s.close()


def error_of(session: Session, sql: str) -> CrmqlError:
    with pytest.raises(CrmqlError) as info:
        session.query(sql)
    return info.value


# ---------------------------------------------------------------- 1. the double-quoted custom field

@pytest.mark.parametrize("sql", [f'SELECT "{RARE}" FROM casavi.contacts',
                                 f'SELECT id FROM casavi.contacts WHERE "{RARE}" = TRUE',
                                 f'SELECT id FROM casavi.contacts ORDER BY "{RARE}"'])
def test_a_double_quoted_custom_field_is_hinted_as_one_not_as_a_string(session: Session, sql: str) -> None:
    err = error_of(session, sql)
    assert f"unknown column '{RARE}' in casavi.contacts" in str(err), err
    assert err.hint is not None and err.hint.startswith("custom fields are discovered from the first page"), err
    assert "single quotes" not in str(err), err


def test_the_quote_advice_stays_where_a_value_is_expected_and_without_dynamic_columns(session: Session) -> None:
    err = error_of(session, 'SELECT id FROM casavi.contacts WHERE lastName = "Tom"')
    assert "strings use single quotes: 'Tom'" in str(err) and "custom fields are discovered" in str(err), err
    err = error_of(session, "SELECT id FROM casavi.contacts WHERE lastName IN ('a', \"Tom\")")
    assert "strings use single quotes: 'Tom'" in str(err), err
    err = error_of(session, 'SELECT name FROM azavista.events WHERE name = "Tom"')
    assert err.hint == "strings use single quotes: 'Tom'", err
    err = error_of(session, 'SELECT "naem" FROM azavista.events')
    assert err.hint == "did you mean name?; strings use single quotes: 'naem'", err


# ---------------------------------------------------------------- 2. a bare name with a non-ASCII letter

@pytest.mark.parametrize("sql, column, word", [
    (f"SELECT {RARE} FROM casavi.contacts", 15, RARE),
    ("SELECT Ärger FROM casavi.contacts", 8, "Ärger"),
    ("SELECT id FROM casavi.units WHERE größe_m2 > 3", 37, "größe_m2"),
])
def test_a_bare_name_with_a_letter_beyond_a_z_is_hinted_to_be_quoted(sql: str, column: int, word: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(sql)
    assert info.value.column == column, info.value
    assert info.value.hint == f'a name with letters beyond a-z is written in double quotes: "{word}"'


def test_the_quoted_name_the_hint_gives_is_read_over_http(session: Session) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        session.query(f"SELECT {RARE} FROM casavi.contacts")
    quoted = info.value.hint.split(": ", 1)[1]  # type: ignore[union-attr]
    err = error_of(session, f"SELECT {quoted} FROM casavi.contacts")  # now a name: the custom-field hint
    assert err.hint and err.hint.startswith("custom fields are discovered"), err


def test_a_stray_symbol_gets_no_name_hint() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("SELECT a FROM x.y WHERE a = 3 €")
    assert str(info.value).startswith("syntax error") and info.value.hint is None


# ---------------------------------------------------------------- 3. CURRENT_DATE and CURRENT_TIMESTAMP

def test_current_date_and_current_timestamp_are_today_and_now(session: Session) -> None:
    frame = session.query("SELECT CURRENT_DATE AS d, current_timestamp AS t, TODAY() AS today, NOW() AS now "
                          "FROM azavista.events LIMIT 1")
    row = frame.iloc[0]
    assert row["d"] == row["today"] and isinstance(row["d"], dt.date), row
    assert row["t"] == row["now"] and pd.Timestamp(row["t"]).tzinfo is not None, row


def test_yesterday_written_with_current_date_reads_what_today_reads(session: Session) -> None:
    sql = "SELECT id FROM casavi.contacts WHERE modifiedAfter = {} - INTERVAL '1 day' ORDER BY id"
    spelled = session.query(sql.format("CURRENT_DATE"))
    assert spelled.equals(session.query(sql.format("TODAY()")))
    sql = "SELECT name FROM azavista.events WHERE start > {} - INTERVAL '3650 days' ORDER BY name"
    spelled = session.query(sql.format("CURRENT_TIMESTAMP"))
    assert len(spelled) > 0 and spelled.equals(session.query(sql.format("NOW()")))


def test_a_quoted_current_date_is_a_column_and_now_without_parentheses_is_hinted(session: Session) -> None:
    err = error_of(session, 'SELECT "CURRENT_DATE" FROM azavista.events')
    assert "unknown column 'CURRENT_DATE'" in str(err), err
    err = error_of(session, "SELECT name FROM azavista.events WHERE start > now")
    assert err.hint and "write TODAY() or NOW()" in err.hint, err


# ---------------------------------------------------------------- 4. the custom_fields setting's errors

def casavi_config(tmp_path: Path, url: str, custom_fields: str) -> Path:
    creds = CREDENTIALS["casavi"]
    path = tmp_path / "cf.toml"
    path.write_text(f'[connections.casavi]\nbase_url = "{url}/casavi"\nkey = "{creds["key"]}"\n'
                    f'secret = "{creds["secret"]}"\ncustom_fields = {custom_fields}\n', encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("setting, words", [
    ('{contacts = {"X" = "bolean"}}', "custom_fields.contacts: 'X' has type 'bolean', not one of string, text"),
    ('{contacts = {"X" = 1}}', "custom_fields.contacts: 'X' has type a number, not one of"),
    ('{contacts = "X"}', "custom_fields.contacts must be a table of field name = type name, not a string"),
    ('"contacts"', "custom_fields must be a table of tables, not a string"),
])
def test_a_bad_custom_fields_shape_names_the_file_and_connection(tmp_path: Path, setting: str, words: str) -> None:
    path = casavi_config(tmp_path, "http://127.0.0.1:9", setting)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}: connections.casavi: {words}"), info.value
    assert info.value.exit_code == 2 and "custom_fields = {contacts = " in str(info.value.hint)


def test_an_unknown_custom_fields_table_names_the_file_and_connection(tmp_path: Path,
                                                                      sandbox_server: SandboxServer) -> None:
    path = casavi_config(tmp_path, sandbox_server.url, '{contact = {"X" = "boolean"}}')
    expected = f"{path}: connections.casavi: custom_fields: casavi has no table 'contact'"
    with Session(load_config(path, env={})) as s:
        with pytest.raises(ConfigError) as info:
            s.query("SELECT id FROM casavi.contacts LIMIT 1")
    assert str(info.value).startswith(expected) and info.value.exit_code == 2, info.value
    run = run_crmql_in_process(["--config", str(path), "-e", "SELECT id FROM casavi.contacts LIMIT 1"],
                               env=cli_environment(tmp_path), cwd=tmp_path)  # the command's code, in this process
    assert run.returncode == 2 and f"error: {expected}" in run.stderr, run


def test_the_config_layer_takes_the_type_names_the_connector_takes() -> None:
    assert set(FIELD_TYPES) == set(TYPE_NAMES)


# ---------------------------------------------------------------- 5. --debug's token lifetime

def test_the_debug_log_gives_the_token_lifetime_in_whole_seconds(sandbox_server: SandboxServer,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    reset_sandbox(sandbox_server)
    with caplog.at_level(logging.DEBUG, logger="crmql.http.auth"), Session(sandbox_config(sandbox_server.url)) as s:
        s.query("SELECT id FROM casavi.contacts LIMIT 1")
    lines = [r.getMessage() for r in caplog.records if "obtained a new token for casavi" in r.getMessage()]
    assert lines and all(re.search(r"\(expires in \d+ s\)$", line) for line in lines), lines
