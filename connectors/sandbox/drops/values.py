"""Reading raw record bodies for rendering into files, tolerant of poison values.

A poison record carries impossible values (a total that is not a number, a date in year 0001) and
must still be written the way the source would carry them, so every helper here answers "no such
number/date" with None instead of raising, and the writer falls back to the raw text.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.sandbox.countries import CURRENCIES


def minor_units(currency: object) -> int:
    """Decimals of a currency's minor unit, also for the lowercase and alias currency defects (the
    amounts are still in the real currency); 2 for a code the sandbox does not know."""
    code = currency.upper() if isinstance(currency, str) else ""
    known = next((c for c in CURRENCIES.values() if code in (c.code, c.alias.upper())), None)
    return known.minor_digits if known else 2


def as_decimal(value: object) -> Decimal | None:
    """The exact decimal a JSON number stands for (via its shortest repr), or None for a non-number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def plain_decimal(value: Decimal) -> str:
    """Shortest fixed-point text: no exponent, no trailing zeros ("12.5", "3", "-0.25")."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def local_instant(raw: object, tz: ZoneInfo) -> datetime | None:
    """An ISO instant seen in `tz`, or None when it is none. Instants too close to year 1 to shift
    (the year-0001 poison) stay in UTC."""
    if not isinstance(raw, str) or "T" not in raw:
        return None
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    try:
        return instant.astimezone(tz)
    except OverflowError:
        return instant


def calendar_date(raw: object, tz: ZoneInfo) -> date | None:
    """The calendar date an ISO date ("2026-03-01") or ISO instant names, instants seen in `tz`."""
    if isinstance(raw, str) and "T" not in raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None
    instant = local_instant(raw, tz)
    return instant.date() if instant else None


def yyyymmdd(day: date) -> str:
    """CCYYMMDD with the year zero-padded, which strftime does not guarantee for years < 1000."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def raw_text(value: object) -> str:
    """How a value no format applies to is written: as its text, nothing for a missing value."""
    return "" if value is None else str(value)
