"""The interactive shell (``crmql`` with no arguments)."""

from .app import run_repl

__all__ = ["run_repl"]
