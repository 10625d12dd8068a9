"""Connections from a TOML file, with ``${ENV}`` interpolation; with no file, the sandbox.

Lookup order: the path given, else ``$CRMQL_CONFIG``, else ``<user config dir>/crmql/config.toml``,
else the built-in sandbox (every vendor's simulator, served in-process on loopback).

    [connections.azavista]
    vendor = "azavista"
    base_url = "https://3.0.app.azavista.com"
    client_id = "${AZAVISTA_CLIENT_ID}"
    client_secret = "${AZAVISTA_CLIENT_SECRET}"
    concurrency = 8            # optional: requests in flight at once
    requests_per_second = 5    # optional
    timeout_s = 30             # optional

>>> interpolate("${HOME_DIR:-/tmp}", {}, where="x")
'/tmp'
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_rules import RULES, validate_settings
from ..errors import ConfigError, did_you_mean

__all__ = ["SANDBOX_URL", "Config", "ConnectionConfig", "config_path", "interpolate", "load_config", "sandbox_config",
           "sandbox_settings", "warn_if_exposed"]

#: base_url of a sandbox connection served in-process; replaced by the real loopback URL on first use
SANDBOX_URL = "sandbox:"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEYS = ("secret", "password", "token", "key")
logger = logging.getLogger(__name__)
#: config files already warned about in this process (a warning is given once per file)
_warned: set[str] = set()
_warned_lock = threading.Lock()


def _is_secret_key(key: str) -> bool:
    return any(s in key.lower() for s in _SECRET_KEYS)


@dataclass
class ConnectionConfig:
    """One ``[connections.NAME]`` table. Known settings are checked (type and range) and converted
    on construction (see :mod:`crmql.api.config_rules`); the repr hides credentials.

    >>> ConnectionConfig("az", "azavista", {"client_id": "me", "client_secret": "hunter22", "timeout_s": "5"})
    ConnectionConfig(name='az', vendor='azavista', settings={'client_id': 'me', 'client_secret': '***', 'timeout_s': 5})
    """

    name: str
    vendor: str
    settings: dict[str, Any]

    def __post_init__(self) -> None:
        self.settings = validate_settings(self.settings, connection=self.name)

    def __repr__(self) -> str:
        return f"ConnectionConfig(name={self.name!r}, vendor={self.vendor!r}, settings={self.redacted()!r})"

    def redacted(self) -> dict[str, Any]:
        """Settings with every credential replaced by ``***``."""
        return {k: ("***" if _is_secret_key(k) and v else v) for k, v in self.settings.items()}


@dataclass
class Config:
    connections: dict[str, ConnectionConfig]
    repl: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)
    source: str = "built-in sandbox"

    def __repr__(self) -> str:
        repl = {k: ("***" if _is_secret_key(k) and v else v) for k, v in self.repl.items()}
        sandbox = {k: ("***" if _is_secret_key(k) and v else v) for k, v in self.sandbox.items()}
        return (f"Config(connections={self.connections!r}, repl={repl!r}, sandbox={sandbox!r}, "
                f"source={self.source!r})")

    @property
    def file(self) -> str | None:
        """The config file these connections come from (None: built in, or made in Python)."""
        return None if self.source == "built-in sandbox" else self.source

    @property
    def uses_sandbox(self) -> bool:
        return any(c.settings.get("base_url") == SANDBOX_URL for c in self.connections.values())

    @property
    def default_connection(self) -> str | None:
        return next(iter(self.connections), None)


def interpolate(value: Any, env: Mapping[str, str], *, where: str) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in strings (recursively in lists and tables)."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{where}: environment variable {name} is not set", hint=f"export {name}=... or use ${{{name}:-default}}")
        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [interpolate(v, env, where=where) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, env, where=where) for k, v in value.items()}
    return value


def _literal_secrets(raw: Mapping[str, Any]) -> list[str]:
    """Where ``raw`` (the file's ``connections`` table, before interpolation) holds a secret as a
    literal rather than as ``${ENV}``: a secret-looking key whose value has text outside ``${...}``
    references, or a non-empty ``${VAR:-default}`` default.

    >>> _literal_secrets({"a": {"client_secret": "${SECRET}", "password": "pw-123", "client_id": "x"}})
    ['connections.a.password']
    >>> _literal_secrets({"a": {"api_key": "${KEY:-dev-key}"}, "b": {"password": 4711}})
    ['connections.a.api_key', 'connections.b.password']
    """
    found = []
    for name, table in raw.items():
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if _is_secret_key(key) and isinstance(value, int) and not isinstance(value, bool):
                found.append(f"connections.{name}.{key}")  # password = 4711: a literal too
                continue
            if not _is_secret_key(key) or not isinstance(value, str) or not value:
                continue
            outside = _VAR.sub("", value).strip()
            defaults = [m.group(2) for m in _VAR.finditer(value) if m.group(2)]
            if outside or defaults:
                found.append(f"connections.{name}.{key}")
    return found


def warn_if_exposed(path: Path, raw: Mapping[str, Any]) -> bool:
    """Warn (once per file per process, on the ``crmql.api.config`` logger) when ``path`` holds a literal
    secret and is readable by group or others, as ssh and libpq do. Returns whether it warned.
    """
    literal = _literal_secrets(raw)
    if not literal or os.name != "posix":
        return False
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return False
    if not mode & 0o077:
        return False
    key = str(path.resolve())
    with _warned_lock:
        if key in _warned:
            return False
        _warned.add(key)
    who = "group and others" if mode & 0o070 and mode & 0o007 else "others" if mode & 0o007 else "its group"
    logger.warning(
        "config file %s holds a literal secret (%s) and is accessible to %s (mode %04o); "
        "restrict it with: chmod 600 %s, or use ${ENV} interpolation for the secret",
        path, ", ".join(literal), who, mode, path,
    )
    return True


def _warn_unknown(path: Path, connection: str, settings: Mapping[str, Any]) -> None:
    """A setting no connector reads is most likely a typo: say so (it is not an error)."""
    for key in settings:
        if key not in RULES:
            hint = did_you_mean(key, RULES)
            logger.warning("%s: connections.%s: unknown setting %r is ignored%s", path, connection, key,
                           f" ({hint})" if hint else "")


def config_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file that applies, or None for the sandbox."""
    if path:
        return Path(path)
    if os.environ.get("CRMQL_CONFIG"):
        return Path(os.environ["CRMQL_CONFIG"])
    try:
        from platformdirs import user_config_dir
        candidate = Path(user_config_dir("crmql")) / "config.toml"
    except Exception:  # pragma: no cover - platformdirs always works on supported systems
        return None
    return candidate if candidate.is_file() else None


def sandbox_config(root_url: str = SANDBOX_URL) -> Config:
    """The sandbox connections: one per registered vendor that has a simulator, named after it, with
    the simulator's credentials for the vendor's config keys (:mod:`crmql.vendors`).

    >>> list(sandbox_config("http://127.0.0.1:8765").connections["atlas"].settings)
    ['base_url', 'client_id', 'client_secret']
    """
    from ..vendors import vendors
    from ..sandbox import CREDENTIALS

    connections = {}
    for vendor, spec in vendors().items():
        creds = CREDENTIALS.get(vendor)
        if creds is None:  # no simulator (or one that failed to load: warned)
            continue
        creds = {k: creds[k] for k in (*spec.config_keys, *spec.optional_keys) if k in creds}
        base = root_url if root_url == SANDBOX_URL else f"{root_url.rstrip('/')}/{vendor}"
        connections[vendor] = ConnectionConfig(vendor, vendor, {"base_url": base, **creds})
    return Config(connections, source="built-in sandbox")


def sandbox_settings(options: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Any:
    """The in-process sandbox's :class:`~crmql.sandbox.SandboxSettings` from the config's ``[sandbox]``
    section (``seed``, ``latency_ms``, ``faults``, ``variants``: a table of KEY = VALUE), each falling
    back to ``$CRMQL_SANDBOX_SEED``, ``_LATENCY_MS``, ``_FAULTS``, ``_VARIANTS`` (``KEY=VALUE,...``).
    A bad value is a :class:`ConfigError` naming it, with a did-you-mean.

    >>> sandbox_settings({"variants": {"azavista.range": "inclusive"}}, env={}).variants
    {'azavista.range': 'inclusive'}
    >>> sandbox_settings({"variants": {"azavista.rang": "inclusive"}}, env={})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmql.errors.ConfigError: sandbox: unknown sandbox variant 'azavista.rang' (did you mean azavista.range...)
      hint: crmql sandbox variants lists every variant, its values and its default
    """
    from ..sandbox import VARIANTS_HINT, SandboxSettings, parse_variants

    opts = dict(options or {})
    env = os.environ if env is None else env
    try:
        raw = opts.get("variants", env.get("CRMQL_SANDBOX_VARIANTS", ""))
        if isinstance(raw, Mapping):
            raw = [f"{k}={v}" for k, v in raw.items()]
        elif not isinstance(raw, str):
            raise ValueError(f"variants must be a table of KEY = VALUE, not {raw!r}")
        return SandboxSettings(
            seed=int(opts.get("seed", env.get("CRMQL_SANDBOX_SEED", 42))),
            latency_ms=float(opts.get("latency_ms", env.get("CRMQL_SANDBOX_LATENCY_MS", 0))),
            faults=str(opts.get("faults", env.get("CRMQL_SANDBOX_FAULTS", ""))),
            variants=parse_variants(raw),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"sandbox: {e}", hint=VARIANTS_HINT if "variant" in str(e) else None) from None


def load_config(path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> Config:
    """Load the config that applies (see module doc); a missing explicit file is an error."""
    env = os.environ if env is None else env
    found = config_path(path)
    if found is None:
        return sandbox_config()
    if not found.is_file():
        raise ConfigError(f"config file {found} does not exist", hint="crmql sandbox config > crmql.toml writes an example")
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {found} is not valid TOML: {e}") from None
    raw = data.get("connections")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"config file {found} defines no [connections.NAME] table",
                          hint="see `crmql sandbox config` for an example")
    warn_if_exposed(found, raw)
    connections = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{found}: connections.{name} must be a table")
        settings = interpolate(dict(table), env, where=f"{found}: connections.{name}")
        vendor = settings.pop("vendor", None) or name
        settings = validate_settings(settings, connection=name, where=str(found))
        _warn_unknown(found, name, settings)
        connections[name] = ConnectionConfig(name, str(vendor), settings)
    return Config(connections, repl=dict(data.get("repl", {})), sandbox=dict(data.get("sandbox", {})), source=str(found))
