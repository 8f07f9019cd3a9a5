"""Small sandbox economies for the generator and truth tests: the default config cut down to a few
weeks and companies, with defect rates raised so a small sample measures them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from connectors.sandbox.config import SandboxConfig, load_config, parse_config
from connectors.sandbox.model import Record
from connectors.sandbox.store import SandboxStore

RAISED_DEFECTS = {
    "duplicate": 0.05,
    "spelling_variant": 0.10,
    "missing_optional": 0.10,
    "currency_code": 0.05,
    "poison": 0.03,
    "late_edit": 0.15,
    "void": 0.05,
    "delete": 0.03,
}


def small_config(*, companies: int = 40, start: date = date(2025, 1, 6), weeks: int = 12, seed: int = 7,
                 defects: dict[str, float] | None = None, **changes: Any) -> SandboxConfig:
    raw = load_config().model_dump()
    raw.update(
        seed=seed, companies=companies, start=start, end=start + timedelta(days=7 * weeks - 1),
        panel=dict(raw["panel"], min_per_cell=1, stable_per_cell=1, min_tenure_days=21),
        defects=dict(raw["defects"], **RAISED_DEFECTS, **(defects or {})),
    )
    raw.update(changes)
    return parse_config(raw)


RecordKey = tuple[str, str, str, str]


def histories(store: SandboxStore) -> dict[RecordKey, list[Record]]:
    """Every record's versions, oldest first."""
    out: dict[RecordKey, list[Record]] = defaultdict(list)
    for record in store.all_versions():
        out[(record.system, record.company_id, record.entity, record.record_id)].append(record)
    return dict(out)


def minor(value: float, digits: int) -> int:
    return round(value * 10**digits)
