"""Literal values: parsing DATE / TIMESTAMP / INTERVAL text and date arithmetic.

A TIMESTAMP without an offset is UTC; every timestamp crmql handles is timezone-aware.

>>> parse_timestamp("2025-03-01")
datetime.datetime(2025, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
>>> parse_interval("7 days")
Interval(months=0, delta=datetime.timedelta(days=7))
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["Interval", "add_interval", "iso", "parse_date", "parse_interval", "parse_timestamp", "to_utc"]

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Interval:
    """A calendar interval: whole months (months and years) plus a fixed duration."""

    months: int = 0
    delta: dt.timedelta = dt.timedelta(0)

    def __neg__(self) -> Interval:
        return Interval(-self.months, -self.delta)

    def __str__(self) -> str:
        parts = []
        if self.months:
            parts.append(f"{self.months} months")
        if self.delta:
            parts.append(f"{self.delta.total_seconds():g} seconds")
        return " ".join(parts) or "0 seconds"


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` -> date."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("expected YYYY-MM-DD, e.g. DATE '2025-03-01'") from None


def parse_timestamp(text: str) -> dt.datetime:
    """ISO-8601 (date, date and time, with or without offset) -> aware datetime in UTC.

    >>> parse_timestamp("2024-03-13T00:00:00+01:00").isoformat()
    '2024-03-12T23:00:00+00:00'
    """
    raw = text.strip()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError("expected ISO-8601, e.g. TIMESTAMP '2025-03-01 09:30:00' or '2025-03-01T09:30:00+01:00'") from None
    return to_utc(value)


def to_utc(value: dt.datetime | dt.date) -> dt.datetime:
    """Aware UTC datetime; naive values are taken as UTC and dates as midnight UTC."""
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_UNITS = {
    "second": dt.timedelta(seconds=1), "minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1),
}
_MONTHS = {"month": 1, "year": 12}
_PART = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*(?:,|$|(?=\s*-?\d))", re.I)


def parse_interval(text: str) -> Interval:
    """``'7 days'``, ``'1 day 2 hours'``, ``'3 months'``, ``'1 year'`` -> :class:`Interval`."""
    raw = text.strip().lower()
    pos, months, delta = 0, 0, dt.timedelta(0)
    if not raw:
        raise ValueError("empty interval; expected e.g. INTERVAL '7 days'")
    while pos < len(raw):
        m = _PART.match(raw, pos)
        if not m:
            raise ValueError("expected a number and a unit (seconds, minutes, hours, days, weeks, months, years), e.g. '7 days'")
        number, unit = m.group(1), m.group(2)
        if unit in _UNITS:
            delta += _UNITS[unit] * float(number)
        elif unit in _MONTHS:
            if "." in number:
                raise ValueError("months and years must be whole numbers")
            months += int(number) * _MONTHS[unit]
        else:
            raise ValueError(f"unknown unit '{unit}'; use seconds, minutes, hours, days, weeks, months or years")
        pos = m.end()
    return Interval(months, delta)


def add_interval(value: dt.datetime | dt.date, interval: Interval, sign: int = 1) -> dt.datetime | dt.date:
    """``value + sign * interval``, clamping the day of month (Jan 31 + 1 month = Feb 28/29)."""
    months = interval.months * sign
    if months:
        total = value.year * 12 + (value.month - 1) + months
        year, month = divmod(total, 12)
        month += 1
        last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
        value = value.replace(year=year, month=month, day=min(value.day, last_day))
    delta = interval.delta * sign
    if isinstance(value, dt.datetime) or not delta:
        return value + delta
    return to_utc(value) + delta


def iso(value: dt.datetime) -> str:
    """UTC ISO-8601 with a ``Z``, seconds precision unless there are fractions.

    >>> iso(parse_timestamp("2025-03-01"))
    '2025-03-01T00:00:00Z'
    """
    text = to_utc(value).isoformat()
    return text.replace("+00:00", "Z")
