"""Real Jupyter kernels for the tests: started on Unix sockets, each in its own scratch directory.

Over TCP, jupyter_client picks five free ports in the test process and the kernel binds them
seconds later; with two xdist workers starting servers and kernels, another socket can take one
of those ports in between ("Address already in use", a dead kernel). Unix sockets in a private
directory cannot collide.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def kernel_env(home: Path) -> dict[str, str]:
    """The kernel's environment: ``home`` as HOME, no CRMQL_* variables, this checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMQL_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), MPLBACKEND="module://matplotlib_inline.backend_inline",
               PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p))
    return env


def ipc_kernel_manager(kernel_name: str = "python3") -> Any:
    """A ``KernelManager`` whose kernel listens on Unix sockets in a fresh short directory.

    The directory is short on purpose (a socket path may be at most ~107 bytes) and absolute, so
    the client and a kernel started with another ``cwd`` find the same sockets.
    """
    import jupyter_client

    sockets = tempfile.mkdtemp(prefix="crmql-k-")
    atexit.register(shutil.rmtree, sockets, ignore_errors=True)  # after the kernel has shut down
    return jupyter_client.KernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(sockets, "k"))


def started_kernel(home: Path) -> Any:
    """A context manager: a real kernel on Unix sockets started in ``home`` (HOME too, no CRMQL_*
    variables), ready; yields ``(manager, client)`` and shuts it down after.

    Usage: ``with started_kernel(tmp_path) as (km, kc): ...`` (or yield from it in a fixture).
    """
    import contextlib

    @contextlib.contextmanager
    def run() -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRMQL_")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
        km = ipc_kernel_manager()
        km.start_kernel(cwd=str(home), env=env)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            yield km, kc
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    return run()
