"""Reading the values sources write as text: numbers in any locale, dates and instants in the forms the
connected systems use. Each answers None for text that is not one, never raises: the checker turns None
into a violation naming the field."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
#: How a system writes "no date" (Business Central's empty date): accepted where its field may be empty.
BLANK_DATES: dict[str, frozenset[str]] = {
    "businesscentral": frozenset({"0001-01-01", "0001-01-01T00:00:00Z"}),
}

# Digits grouped by thousands (",", ".", spaces incl. no-break ones, apostrophe) or not, then decimals.
_DECIMAL = re.compile(r"^[+-]?(?:\d{1,3}(?:[,.\u00a0\u202f' ]\d{3})+|\d+)(?:[.,]\d+)?$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_PLAIN_INTEGER = re.compile(r"^-?\d+$")
_LOCAL_DATE = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})$")
# Microsoft JSON dates, as Xero sends them: /Date(1767625279000+0000)/
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def decimal_value(text: str) -> float | None:
    """The number a locale-formatted amount stands for ("1.234,56", "1,234.56", "139,41"); precise
    enough for bounds, which is all it is used for ("1,234" may read as 1.234: the sign is what counts)."""
    text = text.strip()
    if not _DECIMAL.match(text):
        return None
    marks = [i for i, c in enumerate(text) if c in ",."]
    if not marks:
        return float(_digits(text))
    last = marks[-1]
    is_decimal_point = (
        len(text) - last - 1 != 3 or len({text[i] for i in marks}) == 2 or text.count(text[last]) == 1
    )
    if is_decimal_point:
        return float(_digits(text[:last]) + "." + text[last + 1:])
    return float(_digits(text))


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit() or c in "+-")


def is_number_text(text: str) -> bool:
    """Text a program wrote from a number ("123.45", "-2", "1e3"): a faithful re-encoding of a number."""
    return bool(_PLAIN_NUMBER.match(text.strip())) or decimal_value(text) is not None


def is_integer_text(text: str) -> bool:
    return bool(_PLAIN_INTEGER.match(text.strip()))


def date_year(text: str) -> int | None:
    """The year of a calendar date in ISO, compact (CCYYMMDD) or local (D.M.Y, D/M/Y, M/D/Y, Y/M/D) form."""
    try:
        return date.fromisoformat(text).year
    except ValueError:
        pass
    match = _LOCAL_DATE.match(text)
    if match is None:
        return None
    a, b, c = (int(part) for part in match.groups())
    orders = [(a, b, c)] if len(match.group(1)) == 4 else [(c, b, a), (c, a, b)]
    for year, month, day in orders:
        try:
            return date(year, month, day).year
        except ValueError:
            continue
    return None


def instant_year(text: str) -> int | None:
    """The year of an ISO instant (offset or not, "T" or space) or a Microsoft JSON date."""
    try:
        return datetime.fromisoformat(text).year
    except ValueError:
        pass
    match = _MS_DATE.match(text)
    if match is None:
        return None
    try:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).year
    except (OverflowError, OSError, ValueError):
        return None


def in_range(year: int | None) -> bool:
    return year is not None and EARLIEST_YEAR <= year <= LATEST_YEAR
