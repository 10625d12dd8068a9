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

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["SANDBOX_URL", "Config", "ConnectionConfig", "config_path", "interpolate", "load_config", "sandbox_config"]

#: base_url of a sandbox connection served in-process; replaced by the real loopback URL on first use
SANDBOX_URL = "sandbox:"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEYS = ("secret", "password", "token", "key")


@dataclass
class ConnectionConfig:
    name: str
    vendor: str
    settings: dict[str, Any]

    def redacted(self) -> dict[str, Any]:
        """Settings with every credential replaced by ``***``."""
        return {k: ("***" if any(s in k.lower() for s in _SECRET_KEYS) and v else v) for k, v in self.settings.items()}


@dataclass
class Config:
    connections: dict[str, ConnectionConfig]
    repl: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)
    source: str = "built-in sandbox"

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
    """The sandbox connections: one per simulated vendor, named after it."""
    from .connectors.registry import CONNECTORS
    from .sandbox import CREDENTIALS

    connections = {}
    for vendor, creds in CREDENTIALS.items():
        if vendor not in CONNECTORS:
            continue
        creds = {k: v for k, v in creds.items() if k not in ("username", "password")}
        base = root_url if root_url == SANDBOX_URL else f"{root_url.rstrip('/')}/{vendor}"
        connections[vendor] = ConnectionConfig(vendor, vendor, {"base_url": base, **creds})
    return Config(connections, source="built-in sandbox")


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
    connections = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{found}: connections.{name} must be a table")
        settings = interpolate(dict(table), env, where=f"{found}: connections.{name}")
        vendor = settings.pop("vendor", None) or name
        connections[name] = ConnectionConfig(name, str(vendor), settings)
    return Config(connections, repl=dict(data.get("repl", {})), sandbox=dict(data.get("sandbox", {})), source=str(found))
