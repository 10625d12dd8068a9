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
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["Interval", "ParamText", "add_interval", "iso", "parse_date", "parse_interval", "parse_timestamp", "to_utc"]

UTC = dt.timezone.utc
_MICRO = dt.timedelta(microseconds=1)


class ParamText(str):
    """A parameter value given as text (``crmql --param n=499``): the binder types it by what it
    meets (``capacity > :n`` makes it an integer, ``:n + 1`` a number, ``start > :t`` a timestamp).
    Values from the Python API keep their own type; a plain ``str`` stays a string.

    >>> ParamText("499") == "499"
    True
    """

    __slots__ = ()


@dataclass(frozen=True)
class Interval:
    """A calendar interval: whole months (months and years) plus a fixed duration."""

    months: int = 0
    delta: dt.timedelta = dt.timedelta(0)

    def __neg__(self) -> Interval:
        return Interval(-self.months, -self.delta)

    @property
    def micros(self) -> int:
        """The fixed part in whole microseconds, exactly (no float on the way).

        >>> parse_interval("1.001 seconds").micros, parse_interval("100 days 1 second").micros
        (1001000, 8640001000000)
        """
        return self.delta // _MICRO

    def __str__(self) -> str:
        """Exact text that :func:`parse_interval` reads back as the same interval.

        >>> str(parse_interval("100 days 0.000001 seconds")), str(parse_interval("-1.5 seconds"))
        ('100 days 0.000001 seconds', '-1.5 seconds')
        """
        parts = []
        if self.months:
            parts.append(f"{self.months} months")
        if self.delta:
            days, rest = divmod(self.micros, 86_400_000_000)  # days keep the sign; rest is >= 0
            if days and (days > 0 or not rest):
                parts.append(f"{days} days")
            else:
                rest += days * 86_400_000_000
            if rest:
                seconds = Decimal(rest).scaleb(-6).normalize()
                parts.append(f"{seconds:f} seconds")
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


#: microseconds per unit (integers: an interval is exact, '1.001 seconds' is 1,001,000 us)
_UNITS = {"second": 1_000_000, "minute": 60_000_000, "hour": 3_600_000_000, "day": 86_400_000_000,
          "week": 604_800_000_000}
_MONTHS = {"month": 1, "year": 12}
_PART = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*(?:,|$|(?=\s*-?\d))", re.I)


def parse_interval(text: str) -> Interval:
    """``'7 days'``, ``'1 day 2 hours'``, ``'3 months'``, ``'1 year'`` -> :class:`Interval`.

    Fractions are exact decimals, rounded (half to even) to the microsecond:

    >>> parse_interval("1.001 seconds").delta, parse_interval("0.0000005 seconds").delta
    (datetime.timedelta(seconds=1, microseconds=1000), datetime.timedelta(0))
    """
    raw = text.strip().lower()
    pos, months, micros = 0, 0, 0
    if not raw:
        raise ValueError("empty interval; expected e.g. INTERVAL '7 days'")
    while pos < len(raw):
        m = _PART.match(raw, pos)
        if not m:
            raise ValueError("expected a number and a unit (seconds, minutes, hours, days, weeks, months, years), e.g. '7 days'")
        number, unit = m.group(1), m.group(2)
        if unit in _UNITS:
            micros += int((Decimal(number) * _UNITS[unit]).to_integral_value(ROUND_HALF_EVEN))
        elif unit in _MONTHS:
            if "." in number:
                raise ValueError("months and years must be whole numbers")
            months += int(number) * _MONTHS[unit]
        else:
            raise ValueError(f"unknown unit '{unit}'; use seconds, minutes, hours, days, weeks, months or years")
        pos = m.end()
    return Interval(months, dt.timedelta(microseconds=micros))


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
