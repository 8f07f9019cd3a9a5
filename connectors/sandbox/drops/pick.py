"""Stable per-company choices among the styles real exporters differ in (dialects, separators)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def stable_pick(key: str, options: Sequence[T]) -> T:
    """The same option for the same key on every run and machine (Python's hash() is salted)."""
    if not options:
        raise ValueError(f"no options to pick from for {key!r}")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]
