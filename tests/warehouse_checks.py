"""Checks over a whole warehouse folder, shared by the layer tests."""

from __future__ import annotations

from pathlib import Path

from jobs.tables import table_checksum


def checksums(spark, warehouse: Path) -> dict[str, str]:
    """Content checksum of every Delta table in a warehouse folder (bronze, silver, gold and ops)."""
    tables = sorted(log.parent for log in warehouse.glob("*/*/_delta_log"))
    return {table.relative_to(warehouse).as_posix(): table_checksum(spark, str(table)) for table in tables}
