"""Source timestamps to UTC whatever the tenant's format, locale or zone."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from connectors.dates import DateParseError, parse_instant


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("2008-01-10T11:00:00-05:00", {}, datetime(2008, 1, 10, 16, 0)),  # Shopify, the shop's offset
        ("/Date(1539993600000+0000)/", {}, datetime(2018, 10, 20, 0, 0)),  # Xero
        ("2024-03-01 10:00:00", {}, datetime(2024, 3, 1, 10, 0)),  # Odoo, UTC without offset
        ("3/4/2026 1:05 pm", {"tz": "America/Los_Angeles"}, datetime(2026, 3, 4, 21, 5)),  # NetSuite, month first
        ("24.11.2026", {"locale": "de_DE", "tz": "Europe/Berlin"}, datetime(2026, 11, 23, 23, 0)),
        ("04/03/2026", {"locale": "fr_FR"}, datetime(2026, 3, 4, 0, 0)),  # day first
        ("04/03/2026", {"locale": "en_US"}, datetime(2026, 4, 3, 0, 0)),  # month first
        ("2026/11/24", {"locale": "ja_JP", "tz": "Asia/Tokyo"}, datetime(2026, 11, 23, 15, 0)),
        (1767225600000, {}, datetime(2026, 1, 1, 0, 0)),  # epoch milliseconds
    ],
)
def test_given_a_source_timestamp_when_parsed_then_it_is_the_right_utc_instant(value, options, expected):
    assert parse_instant(value, **options) == expected.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("empty", [None, "", False])
def test_given_an_empty_value_when_parsed_then_it_is_none(empty):
    assert parse_instant(empty) is None


def test_given_garbage_when_parsed_then_the_error_names_the_value():
    with pytest.raises(DateParseError, match="'0000-00-00 99:99' is not a date"):
        parse_instant("0000-00-00 99:99")
