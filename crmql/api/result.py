"""The outcome of one statement, as every surface receives it.

>>> r = Result("explain", text="Scan azavista.events")
>>> r.kind, r.frame is None, r.stats.requests
('explain', True, 0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Result", "finish"]


@dataclass
class Result:
    """The outcome of one statement: rows (``frame``) or text (EXPLAIN), and what it cost."""

    kind: str  # "rows" | "explain" | "copy" (COPY and exports: ``text`` says what was written)
    frame: pd.DataFrame | None = None
    text: str | None = None
    stats: stats.QueryStats = field(default_factory=stats.QueryStats)
    statement: Any = None


def finish(result: Result, started: float) -> Result:
    """Stamp ``result``'s statistics with the time since ``started`` (``time.perf_counter()``) and
    its row count.

    >>> finish(Result("rows"), time.perf_counter()).stats.elapsed_ms >= 0
    True
    """
    result.stats.elapsed_ms = int((time.perf_counter() - started) * 1000)
    if result.frame is not None:
        result.stats.rows = len(result.frame)
    return result
