"""Sandbox file drops: the files csv- and x12-run companies leave in their SFTP folders.

`write_drops` renders, per such company, the records updated in [since, as_of) in their latest
version visible at `as_of` (as the API emulators serve them), one company and one day at a time.
Same store and arguments give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from connectors.sandbox.drops import csv_export, x12
from connectors.sandbox.drops.window import DropWindow
from connectors.sandbox.model import Company
from connectors.sandbox.store import SandboxStore

__all__ = ["write_drops"]

_WRITERS: dict[str, Callable[[SandboxStore, Company, Path, DropWindow], list[Path]]] = {
    csv_export.SYSTEM: csv_export.write_company,
    x12.SYSTEM: x12.write_company,
}


def write_drops(store: SandboxStore, out_dir: Path, *, as_of: datetime, since: datetime | None = None) -> list[Path]:
    """Write every file-drop company's files under `out_dir` (csv/…, x12/…); returns them in
    the order written (company, entity or document kind, day)."""
    window = DropWindow(as_of=as_of, since=since)
    written: list[Path] = []
    for company in store.companies():
        writer = _WRITERS.get(company.accounting_system)
        if writer is not None:
            written += writer(store, company, Path(out_dir), window)
    return written
