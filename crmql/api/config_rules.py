"""The type and range of every connection setting crmql reads, checked when a config is loaded.

A wrong value (``concurrency = -1``, ``timeout_s = "abc"``, ``max_attempts = 0``) is a
:class:`~crmql.errors.ConfigError` (exit 2) naming the connection, the key and what is expected,
instead of an ``internal error`` at the first query. ``${ENV}`` interpolation yields text, so a
number or boolean written as text (``timeout_s = "${TIMEOUT:-30}"``) is converted, and an empty
one (``"${TIMEOUT:-}"`` with ``TIMEOUT`` unset) is unset: the default applies. A TOML integer
where text is expected (``client_id = 123456``, a numeric password) is that text. Keys crmql
does not know are left alone (a connector may read its own).

>>> validate_settings({"timeout_s": "2.5", "concurrency": 4}, connection="azavista")
{'timeout_s': 2.5, 'concurrency': 4}
>>> try:
...     validate_settings({"concurrency": -1}, connection="azavista", where="crmql.toml")
... except ConfigError as e:
...     print(e)
crmql.toml: connections.azavista: concurrency must be an integer from 1 to 256, not -1
  hint: e.g. concurrency = 8
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, did_you_mean

__all__ = ["FIELD_TYPES", "RULES", "Rule", "located", "validate_settings"]


@dataclass(frozen=True)
class Rule:
    """What one setting may hold: ``kind`` is "int", "number", "bool", "text", "texts" (a list of
    strings, or one), "table", "fields" (``{table = {field name = type name}}``) or "choice"."""

    kind: str
    low: float | None = None
    #: ``low`` itself is allowed (``>=``) or not (``>``)
    inclusive: bool = True
    high: float | None = None
    choices: tuple[str, ...] = ()
    example: str = ""

    def expected(self) -> str:
        """The expectation in words, e.g. "an integer of at least 1"."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return "a string"
        if self.kind in ("texts", "table", "fields"):
            return {"texts": "a list of strings", "table": "a table"}.get(self.kind, "a table of tables")
        noun = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.inclusive and self.high is not None:
            return f"{noun} from {self.low:g} to {self.high:g}"
        parts = []
        if self.low is not None:
            parts.append(f"of at least {self.low:g}" if self.inclusive else f"greater than {self.low:g}")
        if self.high is not None:
            parts.append(f"at most {self.high:g}")
        return " ".join([noun, " and ".join(parts)]) if parts else noun


_COUNT = Rule("int", low=1)
_SECONDS = Rule("number", low=0, inclusive=False)
_FLAG = Rule("bool")
_TEXT = Rule("text")

#: every setting a connector or the HTTP layer reads (grep ``settings.get`` / ``s[...]``)
RULES: dict[str, Rule] = {
    "base_url": _TEXT,
    "client_id": _TEXT,
    "client_secret": _TEXT,
    "username": _TEXT,
    "password": _TEXT,
    "auth_style": Rule("choice", choices=("body", "basic"), example='"basic"'),
    "concurrency": Rule("int", low=1, high=256, example="8"),
    "requests_per_second": Rule("number", low=0.01, example="5"),  # slower waits 100 s+ per request: a typo
    "timeout_s": Rule("number", low=0, inclusive=False, example="30"),
    "max_attempts": Rule("int", low=1, high=100, example="5"),
    "retry_base_s": Rule("number", low=0, example="0.2"),
    "retry_cap_s": Rule("number", low=0, example="8"),
    "max_retry_wait_s": Rule("number", low=0, example="60"),
    "max_response_mb": Rule("number", low=0, inclusive=False, example="64"),
    "max_requests": Rule("int", low=1, example="50000"),
    "max_pages": Rule("int", low=1, example="10000"),
    "eq_case_sensitive": _FLAG,
    "like_case_sensitive": _FLAG,
    "contains_case_sensitive": _FLAG,
    "range_inclusive": _FLAG,
    # the auth flows of crmql.http.flows, as the REST kit's declarations pass them (connectors/rest/auth.py)
    "key": _TEXT, "secret": _TEXT, "refresh_path": _TEXT,
    "access_token": _TEXT, "refresh_token": _TEXT, "issuer": _TEXT,
    "token_origins": Rule("texts", example='["https://id.example.com"]'),
    "session_id": _TEXT, "send_as": Rule("choice", choices=("cookie", "query"), example='"cookie"'),
    "login_path": _TEXT, "login_body": Rule("table", example='{Email = "{user}", Password = "{password}"}'),
    "login_values": Rule("table", example='{user = "me@example.com", password = "${VOYZU_PASSWORD}"}'),
    # casavi (connectors/casavi): the list page size, its parameter, custom fields the sample page misses
    "page_size": Rule("int", low=1, high=10000, example="100"), "page_size_param": _TEXT,
    "custom_fields": Rule("fields", example='{contacts = {"Sonderkündigungsrecht" = "boolean"}}'),
    # casavi Community (connectors/casavi_community): a chosen path overridden, checked by the connector
    "paths": Rule("table", example='{appointments = "/api/v2/c/{community_id}/appointments"}'),
    # Voyzu CRM (connectors/voyzu): session placement, the search reading and pushdown, async jobs
    "send_session_as": Rule("choice", choices=("cookie", "query"), example='"cookie"'),
    "search_reading": Rule("choice", choices=("auto", "datatable", "page", "none"), example='"auto"'),
    "search_pushdown": _FLAG, "async": Rule("choice", choices=("auto", "always", "never"), example='"auto"'),
    "async_rows": _COUNT, "async_deadline_s": Rule("number", low=0, inclusive=False, example="300"),
}
#: the type names a ``fields`` setting takes (case-insensitive), as connectors read them (casavi's
#: ``custom_fields.TYPE_NAMES``; the vendor checks its table names when it starts)
FIELD_TYPES = ("string", "text", "boolean", "bool", "integer", "int", "float", "number", "date", "timestamp")
_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a table"}
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class _Bad(Exception):
    pass


def _number(value: Any, rule: Rule) -> int | float:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise _Bad from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Bad
    if rule.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise _Bad
            value = int(value)
    if rule.low is not None and (value < rule.low or (not rule.inclusive and value == rule.low)):
        raise _Bad
    if rule.high is not None and value > rule.high:
        raise _Bad
    return value


def _check(value: Any, rule: Rule) -> Any:
    if rule.kind in ("int", "number"):
        return _number(value, rule)
    if rule.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise _Bad
    if rule.kind == "texts":  # one string, or a list of them
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        raise _Bad
    if rule.kind in ("table", "fields"):
        if isinstance(value, dict):
            return value
        raise _Bad
    if rule.kind == "choice":
        chosen = [c for c in rule.choices if isinstance(value, str) and value.strip().lower() == c.lower()]
        if chosen:
            return chosen[0]  # "Basic" is "basic"
        raise _Bad
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # client_id = 123456: TOML has no other way to write it unquoted
    if callable(value):  # a sandbox base_url, resolved on first use
        return value
    raise _Bad


def validate_settings(settings: Mapping[str, Any], *, connection: str, where: str | None = None) -> dict[str, Any]:
    """``settings`` with every known key checked and converted (text to number or boolean).

    ``None`` (a setting left unset) is kept; an empty or blank string for a setting that is not
    text is removed, so its default applies. Raises :class:`~crmql.errors.ConfigError` naming
    ``where`` (the config file), the connection and the key.

    >>> validate_settings({"eq_case_sensitive": "yes", "other": [1]}, connection="c")
    {'eq_case_sensitive': True, 'other': [1]}
    >>> validate_settings({"timeout_s": "", "client_id": 123456, "auth_style": "Basic"}, connection="c")
    {'client_id': '123456', 'auth_style': 'basic'}
    """
    checked = dict(settings)
    for key, value in settings.items():
        rule = RULES.get(key)
        if rule is None or value is None:
            continue
        if rule.kind not in ("text", "texts") and isinstance(value, str) and not value.strip():
            del checked[key]  # "${TIMEOUT:-}" with TIMEOUT unset: unset, not a bad number
            continue
        try:
            checked[key] = _check(value, rule)
        except _Bad:
            prefix = f"{where}: " if where else ""
            shown = repr(value) if not isinstance(value, bool) else str(value).lower()
            if rule.kind in ("text", "choice") and not isinstance(value, str) or "secret" in key or "password" in key \
                    or rule.kind in ("texts", "table", "fields"):
                shown = _KINDS.get(type(value), f"a {type(value).__name__}")  # never a secret's value
            example = rule.example or ('"..."' if rule.kind == "text" else "")
            raise ConfigError(
                f"{prefix}connections.{connection}: {key} must be {rule.expected()}, not {shown}",
                hint=f"e.g. {key} = {example}" if example else None,
            ) from None
        if rule.kind == "fields":
            _check_fields(value, key, f"{where}: " if where else "", connection, rule)
    return checked


def _check_fields(value: Mapping[str, Any], key: str, prefix: str, connection: str, rule: Rule) -> None:
    """Each entry of a ``fields`` setting is a table of field name = one of :data:`FIELD_TYPES`.

    >>> _check_fields({"contacts": {"X": "bolean"}}, "custom_fields", "f.toml: ", "casavi", RULES["custom_fields"])
    Traceback (most recent call last):
    crmql.errors.ConfigError: f.toml: connections.casavi: custom_fields.contacts: 'X' has type 'bolean', not one of string, text, boolean, bool, integer, int, float, number, date, timestamp (did you mean boolean or bool?)
      hint: e.g. custom_fields = {contacts = {"Sonderkündigungsrecht" = "boolean"}}
    """
    hint = f"e.g. {key} = {rule.example}"
    for table, fields in value.items():
        if not isinstance(fields, dict):
            raise ConfigError(f"{prefix}connections.{connection}: {key}.{table} must be a table of "
                              f"field name = type name, not {_KINDS.get(type(fields), 'a value')}", hint=hint)
        for name, type_name in fields.items():
            if not isinstance(type_name, str) or type_name.strip().lower() not in FIELD_TYPES:
                shown = repr(type_name) if isinstance(type_name, str) else _KINDS.get(type(type_name), "a value")
                guess = did_you_mean(type_name, list(FIELD_TYPES)) if isinstance(type_name, str) else None
                raise ConfigError(f"{prefix}connections.{connection}: {key}.{table}: {name!r} has type {shown}, "
                                  f"not one of {', '.join(FIELD_TYPES)}" + (f" ({guess})" if guess else ""), hint=hint)


def located(err: ConfigError, *, connection: str, where: str | None = None) -> ConfigError:
    """``err``, a connector's complaint about one of the settings above (its message starts with
    the key: ``custom_fields: casavi has no table 'contact'``), prefixed like the errors of
    :func:`validate_settings`: the config file and the connection. Any other error is returned as is.

    >>> print(located(ConfigError("custom_fields: no table 'x'"), connection="casavi", where="cf.toml"))
    cf.toml: connections.casavi: custom_fields: no table 'x'
    >>> print(located(ConfigError("connection 'c': unknown vendor 'x'"), connection="c"))
    connection 'c': unknown vendor 'x'
    """
    key = err.message.split(":", 1)[0].split(".", 1)[0].split(" ", 1)[0]
    if key not in RULES:
        return err
    prefix = f"{where}: " if where else ""
    out = ConfigError(f"{prefix}connections.{connection}: {err.message}", hint=err.hint)
    out.__cause__ = err.__cause__
    return out
