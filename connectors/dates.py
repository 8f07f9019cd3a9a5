"""Source timestamps to UTC, whatever the tenant's format: ISO 8601 with or without offset, Microsoft JSON
dates ("/Date(1539993600000+0000)/", Xero), Odoo's "YYYY-MM-DD HH:MM:SS" (UTC), NetSuite's "M/D/YYYY
h:mm am", and locale dates ("24.11.2026", "24/11/2026", "2026/11/24"). A timestamp without an offset is
read in the tenant's time zone; day-first or month-first comes from its locale."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

_MS_JSON = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
MONTH_FIRST_LOCALES = ("en_US", "en_PH")


class DateParseError(ValueError):
    """A value that is not a date in any format we know; names the value."""


def parse_instant(value: object, *, tz: str = "UTC", locale: str = "en_US") -> datetime | None:
    """`value` as an aware UTC datetime; None for empty values (None, "", False as Odoo sends them)."""
    if value is None or value is False or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if match := _MS_JSON.fullmatch(text):
            return datetime.fromtimestamp(int(match.group(1)) / 1000, timezone.utc)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = dateutil_parser.parse(text, dayfirst=locale not in MONTH_FIRST_LOCALES, yearfirst=bool(re.match(r"\d{4}", text)))
            except (ValueError, OverflowError):
                raise DateParseError(f"{value!r} is not a date or time in any known format") from None
    else:
        raise DateParseError(f"{value!r} ({type(value).__name__}) is not a date or time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(timezone.utc)
