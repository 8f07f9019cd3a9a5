"""The marks the review-applied DAG compares (no Spark): decisions wait for a replay when one was taken since
the last full replay started, and not after it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from jobs.ops.review import decisions_waiting, mark, marked
from jobs.settings import load_settings


def test_given_decisions_and_replays_then_decisions_wait_only_until_a_replay_starts_after_them(tmp_path):
    settings = load_settings("local", warehouse=str(tmp_path))
    morning = datetime(2026, 12, 8, 9, tzinfo=timezone.utc)
    assert not decisions_waiting(settings)  # nothing decided yet

    mark(settings, "decided", morning)
    assert decisions_waiting(settings) and marked(settings, "decided") == morning  # never replayed

    mark(settings, "replayed", morning + timedelta(minutes=5))
    assert not decisions_waiting(settings)

    mark(settings, "decided", morning + timedelta(minutes=10))
    assert decisions_waiting(settings)
