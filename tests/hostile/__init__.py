"""A hostile fake vendor for the test suite: see :mod:`tests.hostile.server`."""

from .server import AZAVISTA_TABLES, Hit, HostileVendor, Mode, serve

__all__ = ["AZAVISTA_TABLES", "Hit", "HostileVendor", "Mode", "serve"]
