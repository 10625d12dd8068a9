"""A streamed SELECT's rows, pulled by a cursor: pages are fetched only as the rows are asked for.

The core is :class:`crmql.exec.pull.RowStream` (shared with the engine's partition reader); this
module keeps the DB-API's own setting, :data:`IDLE_RELEASE_S`, read when a cursor's stream starts.
A paused stream is released (it stops holding crmql's event loop and keeps the rest of its rows in
memory, nothing lost) when any DB-API statement starts (:func:`release_all`) and after
:data:`IDLE_RELEASE_S` seconds without a fetch.

>>> RowStream.__name__
'RowStream'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...exec import pull
from ...exec.pull import release_all

__all__ = ["IDLE_RELEASE_S", "RowStream", "release_all"]

#: seconds a paused stream may hold the event loop with no fetch before it is released: short, since
#: a tool may leave a result half-read (JupySQL fetches what it displays) while the user runs
#: %crmql next; a slower consumer only costs memory (the rest gathered), never a row
IDLE_RELEASE_S = pull.IDLE_RELEASE_S


class RowStream(pull.RowStream):
    """Result frames of one streamed SELECT for a cursor (see :class:`crmql.exec.pull.RowStream`)."""

    def __init__(self, run: Callable[[Callable[[Any], None]], Any]) -> None:
        super().__init__(run, idle_release_s=IDLE_RELEASE_S, name="crmql-dbapi-stream")
