"""How the magic's results show in the notebook: a DataFrame with a caption (:class:`ResultView`),
plans and summaries as plain text (:class:`TextResult`), and the IPython formatters that show the
DataFrames the magic returned that way."""

from __future__ import annotations

import dataclasses
import html
import weakref
from typing import Any

import pandas as pd

__all__ = ["ResultView", "TextResult"]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _seconds(ms: int) -> str:
    s = ms / 1000
    return f"{s:.2f} s" if s < 1 else f"{s:.1f} s"


@dataclasses.dataclass
class _Shown:
    """How to show one result: its costs, and the display options given with it (None: the
    magics' configuration at display time, so ``%config Crmql.display_limit`` applies to earlier
    results too)."""

    requests: int
    elapsed_ms: int
    limit: int | None
    format: str | None
    defaults: Any = None


class ResultView:
    """A result as the notebook shows it: the first ``limit`` rows and a caption."""

    def __init__(self, frame: pd.DataFrame, *, requests: int = 0, elapsed_ms: int = 0, limit: int = 10,
                 format: str = "dataframe") -> None:
        self.frame = frame
        self.requests = requests
        self.elapsed_ms = elapsed_ms
        self.limit = limit
        self.format = format

    @property
    def cut(self) -> bool:
        return 0 < self.limit < len(self.frame)

    @property
    def shown(self) -> pd.DataFrame:
        return self.frame.head(self.limit) if self.cut else self.frame

    @property
    def caption(self) -> str:
        n = len(self.frame)
        text = f"{_plural(n, 'row')} · {_plural(self.requests, 'request')} · {_seconds(self.elapsed_ms)}"
        if self.cut:
            text += f" · showing {self.limit:,} of {_plural(n, 'row')}"
        return text

    def _text_body(self) -> str:
        from ...exec.formats import render

        if self.format == "dataframe":
            with pd.option_context("display.max_rows", max(len(self.shown), 1), "display.min_rows", len(self.shown),
                                   "display.show_dimensions", False):
                return repr(self.shown)
        return render(self.shown, self.format, footer=False).rstrip("\n")

    def _repr_html_(self) -> str:
        caption = f'<p class="crmql-caption" style="color:#666;margin:4px 0">{html.escape(self.caption)}</p>'
        if self.format == "dataframe":
            with pd.option_context("display.max_rows", max(len(self.shown), 1), "display.min_rows", len(self.shown),
                                   "display.show_dimensions", False, "display.notebook_repr_html", True):
                body = self.shown._repr_html_() or html.escape(repr(self.shown))
        else:
            body = f"<pre>{html.escape(self._text_body())}</pre>"
        return f'<div class="crmql-result">{body}{caption}</div>'

    def __repr__(self) -> str:
        return f"{self._text_body()}\n{self.caption}"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


class TextResult:
    """A plan (EXPLAIN) or a statement's summary (COPY), shown as plain text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text)

    def _repr_html_(self) -> str:
        return f'<pre class="crmql-text">{html.escape(self.text)}</pre>'

    def __eq__(self, other: object) -> bool:
        return self.text == (other.text if isinstance(other, TextResult) else other)

    __hash__ = None  # type: ignore[assignment]


class _Registry:
    """The DataFrames the magic returned, with how to show them. Keyed by identity (weakly), so a
    frame derived from one (``df.head()``) shows as a plain DataFrame again."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref[pd.DataFrame], _Shown]] = {}

    def add(self, frame: pd.DataFrame, shown: _Shown) -> None:
        self._items = {k: v for k, v in self._items.items() if v[0]() is not None}
        self._items[id(frame)] = (weakref.ref(frame), shown)

    def view(self, frame: Any) -> ResultView | None:
        item = self._items.get(id(frame))
        if item is None or item[0]() is not frame:
            return None
        s = item[1]
        limit = s.limit if s.limit is not None else getattr(s.defaults, "display_limit", 10)
        fmt = s.format or getattr(s.defaults, "format", "dataframe")
        return ResultView(frame, requests=s.requests, elapsed_ms=s.elapsed_ms, limit=limit, format=fmt)


_registry = _Registry()


def _html_formatter(frame: pd.DataFrame) -> str | None:
    view = _registry.view(frame)
    return view._repr_html_() if view is not None else frame._repr_html_()


def _plain_formatter(frame: pd.DataFrame, p: Any, cycle: bool) -> None:
    view = _registry.view(frame)
    p.text(repr(view) if view is not None else repr(frame))

