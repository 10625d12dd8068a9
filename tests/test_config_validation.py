"""Config hardening (issue 9, points 11 and 16): wrong setting types and ranges are ConfigErrors
naming the key (exit 2, through the real CLI too), a config file holding a literal secret that
others can read draws one warning, and reprs never show credentials."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from crmql.api import config as config_module
from crmql.api.config import Config, ConnectionConfig, load_config
from crmql.api.config_rules import RULES
from crmql.errors import ConfigError

from cli_support import run_crmql_in_process

BASE = """
[connections.az]
vendor = "azavista"
base_url = "http://127.0.0.1:9"
client_id = "me"
client_secret = "${AZ_SECRET}"
"""


def write(tmp_path: Path, extra: str = "", *, mode: int = 0o600, base: str = BASE) -> Path:
    path = tmp_path / "crmql.toml"
    path.write_text(base + extra, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("line, words", [
    ("concurrency = -1", "concurrency must be an integer from 1 to 256, not -1"),
    ("concurrency = 2.5", "concurrency must be an integer from 1 to 256, not 2.5"),
    ('timeout_s = "abc"', "timeout_s must be a number greater than 0, not 'abc'"),
    ("timeout_s = 0", "timeout_s must be a number greater than 0, not 0"),
    ("timeout_s = nan", "timeout_s must be a number greater than 0, not nan"),
    ("max_attempts = 0", "max_attempts must be an integer from 1 to 100, not 0"),
    ("max_attempts = true", "max_attempts must be an integer from 1 to 100, not true"),
    ("requests_per_second = -5", "requests_per_second must be a number of at least 0.01, not -5"),
    ("requests_per_second = 1e-300", "requests_per_second must be a number of at least 0.01, not 1e-300"),
    ("retry_base_s = -1", "retry_base_s must be a number of at least 0, not -1"),
    ("max_retry_wait_s = [1]", "max_retry_wait_s must be a number of at least 0, not [1]"),
    ("max_response_mb = 0", "max_response_mb must be a number greater than 0, not 0"),
    ("max_requests = 0", "max_requests must be an integer of at least 1, not 0"),
    ("max_pages = \"many\"", "max_pages must be an integer of at least 1, not 'many'"),
    ('auth_style = "digest"', "auth_style must be one of 'body', 'basic', not 'digest'"),
    ('eq_case_sensitive = "perhaps"', "eq_case_sensitive must be true or false, not 'perhaps'"),
    ("username = 4.2", "username must be a string, not a number"),
    ("username = true", "username must be a string, not a boolean"),
])
def test_wrong_type_or_range_is_a_config_error_naming_the_key(tmp_path: Path, line: str, words: str) -> None:
    path = write(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"AZ_SECRET": "s"})
    assert str(info.value).startswith(f"{path}: connections.az: {words}")
    assert info.value.exit_code == 2


def test_a_secret_of_the_wrong_type_is_not_shown(tmp_path: Path) -> None:
    path = write(tmp_path, base=BASE.replace('"${AZ_SECRET}"', "[12345678]"))
    with pytest.raises(ConfigError, match="client_secret must be a string, not a list") as info:
        load_config(path)
    assert "12345678" not in str(info.value)


def test_values_from_env_interpolation_are_converted(tmp_path: Path) -> None:
    path = write(tmp_path, 'timeout_s = "${T:-2.5}"\nconcurrency = "${C}"\nrange_inclusive = "${R:-false}"\n')
    settings = load_config(path, env={"AZ_SECRET": "s", "C": "4"}).connections["az"].settings
    assert (settings["timeout_s"], settings["concurrency"], settings["range_inclusive"]) == (2.5, 4, False)
    assert type(settings["concurrency"]) is int


def test_integers_for_text_keys_are_that_text(tmp_path: Path) -> None:
    # issue 9 review, point 13: TOML integers for client_id / password worked before validation
    path = write(tmp_path, "username = \"bob\"\npassword = 4711\n", base=BASE.replace('"me"', "123456"))
    settings = load_config(path, env={"AZ_SECRET": "s"}).connections["az"].settings
    assert (settings["client_id"], settings["password"]) == ("123456", "4711")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_numeric_literal_password_in_a_readable_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, "username = \"bob\"\npassword = 4711\n", mode=0o644)
    with caplog.at_level(logging.WARNING, logger="crmql.api.config"):
        load_config(path, env={"AZ_SECRET": "s"})
    warnings = [r.getMessage() for r in caplog.records if r.name == "crmql.api.config"]
    assert len(warnings) == 1 and "connections.az.password" in warnings[0] and "4711" not in warnings[0]


@pytest.mark.parametrize("key", ["timeout_s", "concurrency", "max_requests", "auth_style", "range_inclusive"])
def test_an_empty_value_from_the_environment_is_unset(tmp_path: Path, key: str) -> None:
    # issue 9 review, point 13: "${T:-}" with T unset was "must be a number greater than 0, not ''"
    path = write(tmp_path, f'{key} = "${{T:-}}"\n')
    conn = load_config(path, env={"AZ_SECRET": "s"}).connections["az"]
    assert key not in conn.settings  # the connector's default applies
    from crmql.connectors.azavista.connector import AzavistaConnector  # the default reaches the HTTP client
    http = AzavistaConnector("az", conn.settings).http
    assert http.timeout_s == 30.0 and http.concurrency >= 1


def test_a_choice_is_matched_without_regard_to_case(tmp_path: Path) -> None:
    path = write(tmp_path, 'auth_style = "Basic"\n')
    assert load_config(path, env={"AZ_SECRET": "s"}).connections["az"].settings["auth_style"] == "basic"


def test_every_key_the_connectors_read_has_a_rule() -> None:
    """Keys read with settings.get(...) / s[...] in the connectors and the HTTP layer are all checked."""
    import re

    root = Path(__file__).resolve().parents[1] / "crmql"
    read = set()
    for source in [*(root / "connectors").rglob("*.py"), *(root / "http").rglob("*.py")]:
        text = source.read_text(encoding="utf-8")
        read |= set(re.findall(r"""(?:settings|\bs|\bopt)(?:\.get\(|\[)["'](\w+)["']""", text))
    assert read, "the pattern found nothing: the test would assert nothing"
    assert read - set(RULES) == set()


def test_the_cli_exits_2_with_one_line_not_internal_error(tmp_path: Path) -> None:
    path = write(tmp_path, "concurrency = -1\n")
    env = {**os.environ, "AZ_SECRET": "s"}
    done = run_crmql_in_process(["--config", str(path), "-e", "SELECT 1"], env=env, cwd=tmp_path)  # in this process
    assert done.returncode == 2, done.stderr
    assert "concurrency must be an integer from 1 to 256, not -1" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_connection_config_built_in_python_is_checked_too() -> None:
    with pytest.raises(ConfigError, match="connections.az: max_attempts must be"):
        ConnectionConfig("az", "azavista", {"max_attempts": 0})


# ----------------------------------------------------------------------------- 16: secrets


def test_reprs_never_show_credentials() -> None:
    conn = ConnectionConfig("az", "azavista", {"client_id": "me", "client_secret": "Sup3r-S3cret",
                                                "password": "pw-Secret-9", "api_token": "tok-123456"})
    config = Config({"az": conn})
    for text in (repr(conn), repr(config), str(config)):
        assert "Sup3r-S3cret" not in text and "pw-Secret-9" not in text and "tok-123456" not in text
        assert "'client_secret': '***'" in text and "'client_id': 'me'" in text


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_literal_secret_in_a_readable_file_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    literal = BASE.replace('"${AZ_SECRET}"', '"hunter2-literal"')
    path = write(tmp_path, mode=0o644, base=literal)
    with caplog.at_level(logging.WARNING, logger="crmql.api.config"):
        load_config(path)
        load_config(path)  # once per file per process
    warnings = [r.getMessage() for r in caplog.records if r.name == "crmql.api.config"]
    assert len(warnings) == 1
    assert f"config file {path} holds a literal secret (connections.az.client_secret)" in warnings[0]
    assert "mode 0644" in warnings[0] and "chmod 600" in warnings[0]
    assert "hunter2-literal" not in warnings[0]


@pytest.mark.parametrize("mode, base, env", [
    (0o600, BASE.replace('"${AZ_SECRET}"', '"hunter2-literal"'), {}),  # private file
    (0o644, BASE, {"AZ_SECRET": "from-env"}),  # readable, but the secret comes from the environment
])
def test_no_warning_for_a_private_file_or_an_env_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                        mode: int, base: str, env: dict[str, str]) -> None:
    path = write(tmp_path, mode=mode, base=base)
    with caplog.at_level(logging.WARNING, logger="crmql.api.config"):
        load_config(path, env=env)
    assert not [r for r in caplog.records if r.name == "crmql.api.config"]
    assert str(path.resolve()) not in config_module._warned


def test_the_cli_shows_the_warning_on_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, mode=0o640, base=BASE.replace('"${AZ_SECRET}"', '"hunter2-literal"'))
    done = run_crmql_in_process(["--config", str(path), "-e", "SELECT 1"], env=dict(os.environ), cwd=tmp_path)
    assert "holds a literal secret" in done.stderr and "accessible to its group" in done.stderr
    assert "hunter2-literal" not in done.stderr + done.stdout


def test_an_unknown_setting_is_a_warning_with_a_suggestion(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, "timout_s = 5\n")
    with caplog.at_level(logging.WARNING, logger="crmql.api.config"):
        config = load_config(path, env={"AZ_SECRET": "s"})
    assert config.connections["az"].settings["timout_s"] == 5  # kept: not an error
    assert [r.getMessage() for r in caplog.records if r.name == "crmql.api.config"] == [
        f"{path}: connections.az: unknown setting 'timout_s' is ignored (did you mean timeout_s?)"]
