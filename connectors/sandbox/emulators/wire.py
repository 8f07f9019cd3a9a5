"""Value formats the emulated systems put on the wire: local times with offsets, dates, money.

Every formatter passes a value it cannot read through unchanged: a poison record (a total that is
not a number, a date in year 0001) must still go out the way the source system would carry it.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

_ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "HUF"})


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_instant(value: Any) -> datetime | None:
    """An ISO-8601 instant as a tz-aware datetime (naive text is UTC); None when it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def local_time(value: Any, tz: ZoneInfo, *, timespec: str = "seconds") -> Any:
    """'2008-01-10T11:00:00-05:00': the instant in `tz` with its offset, as Shopify and QuickBooks show it."""
    instant = parse_instant(value)
    if instant is None:
        return value
    try:
        return instant.astimezone(tz).isoformat(timespec=timespec)
    except OverflowError:  # year 0001 west of Greenwich: the system would show the UTC text it stored
        return instant.isoformat(timespec=timespec)


def local_date(value: Any, tz: ZoneInfo) -> Any:
    """The calendar date of an instant in `tz` ('2014-09-19'); a plain date passes as it is."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return value
    instant = parse_instant(value)
    if instant is None:
        return value
    try:
        return instant.astimezone(tz).date().isoformat()
    except OverflowError:
        return instant.date().isoformat()


def minor_digits(currency: Any) -> int:
    return 0 if isinstance(currency, str) and currency.upper() in _ZERO_DECIMAL_CURRENCIES else 2


def money_text(value: Any, currency: Any) -> Any:
    """Money as a decimal string with the currency's minor digits ('409.94', '1200' for JPY)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return f"{value:.{minor_digits(currency)}f}"


def whole(value: Any) -> Any:
    """A count as an integer when it is whole (3.0 → 3); anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
