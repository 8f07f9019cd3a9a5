"""The days a change of freshness touches: a company's periods from the earlier of its old and new
`fresh_through` (periods complete or appear), a newly extracted company's from its onboarding."""

from __future__ import annotations

from datetime import date

from jobs.gold.changes import _fresh
from jobs.gold.facts import EVERYTHING


def test_given_freshness_moved_when_compared_then_each_moved_company_touches_from_its_earlier_day():
    last = {"c1": date(2026, 3, 1), "c2": date(2026, 3, 1), "c3": date(2026, 2, 1)}
    now = {"c1": date(2026, 3, 2), "c2": date(2026, 3, 1), "c3": date(2026, 1, 20), "c4": date(2026, 3, 2), "c5": date(2026, 3, 2)}
    assert sorted(_fresh(last, now, {"c4": date(2025, 6, 1)})) == [EVERYTHING, date(2025, 6, 1), date(2026, 1, 20), date(2026, 3, 1)]
