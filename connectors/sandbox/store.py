"""Where a generated sandbox lives: one SQLite file of every record version, read by the emulators.

SQLite because every emulator query is "the latest version, as of the emulator clock, of one tenant's
entity, in (updated_at, record_id) order, from a position, for one page" — an index range scan that
streams from disk, so serving never materializes a tenant in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import orjson

from connectors.sandbox.model import Company, Record, RecordKey

_SCHEMA = """
CREATE TABLE IF NOT EXISTS company (
    company_id TEXT PRIMARY KEY,
    doc BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS record (
    system TEXT NOT NULL,
    company_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    body BLOB NOT NULL,
    truth BLOB NOT NULL,
    PRIMARY KEY (system, company_id, entity, record_id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fx_rate (
    rate_date TEXT NOT NULL,
    currency TEXT NOT NULL,
    usd_per_unit REAL NOT NULL,
    PRIMARY KEY (rate_date, currency)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Built after the bulk load: a secondary index maintained row by row would slow generation severalfold.
_INDEXES = """
CREATE INDEX IF NOT EXISTS record_by_update
    ON record (system, company_id, entity, updated_at, record_id, version);
"""


def _ts(value: datetime) -> str:
    """Fixed-width UTC text, so SQLite's string order is time order (isoformat: 4× faster than
    strftime on the generator's write path)."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the "Z" suffix gives a tz-aware UTC value


def encode_record(r: Record) -> tuple:
    """A record as its `record` table row."""
    return (
        r.system, r.company_id, r.entity, r.record_id, r.version, _ts(r.created_at), _ts(r.updated_at),
        int(r.deleted), orjson.dumps(r.body), orjson.dumps(r.truth),
    )


def _company_doc(company: Company) -> bytes:
    return orjson.dumps({k: getattr(company, k) for k in company.__slots__})


def _company(doc: bytes) -> Company:
    fields = orjson.loads(doc)
    for key in ("onboarded_on", "churned_on"):
        if fields[key] is not None:
            fields[key] = date.fromisoformat(fields[key])
    return Company(**fields)


class SandboxStore:
    """Read and write access to one generated sandbox (`<dir>/sandbox.db`)."""

    def __init__(self, path: Path, *, readonly: bool = True) -> None:
        self.path = Path(path)
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(
                    f"no sandbox at {self.path}: run `groundswell sandbox generate --out {self.path.parent}`"
                )
            uri = f"file:{self.path}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- writing (the generator) -------------------------------------------------------------------

    def write_companies(self, companies: Iterable[Company]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO company VALUES (?, ?)",
            ((c.company_id, _company_doc(c)) for c in companies),
        )

    def write_records(self, records: Iterable[Record]) -> None:
        self.write_rows(map(encode_record, records))

    def write_rows(self, rows: Iterable[tuple]) -> None:
        """Write records already encoded by `encode_record` (generator workers encode in parallel;
        one process writes)."""
        self._db.executemany("INSERT OR REPLACE INTO record VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def write_fx_rates(self, rates: Iterable[tuple[date, str, float]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO fx_rate VALUES (?, ?, ?)",
            ((d.isoformat(), ccy, rate) for d, ccy, rate in rates),
        )

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def finish(self) -> None:
        """Index and commit after a bulk load."""
        self._db.executescript(_INDEXES)
        self._db.commit()

    # -- reading (emulators, file drops, truth) ----------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def companies(self) -> list[Company]:
        return [_company(doc) for (doc,) in self._db.execute("SELECT doc FROM company ORDER BY company_id")]

    def company(self, company_id: str) -> Company | None:
        row = self._db.execute("SELECT doc FROM company WHERE company_id = ?", (company_id,)).fetchone()
        return _company(row[0]) if row else None

    def tenants(self, system: str) -> list[Company]:
        """Companies whose data lives in `system`."""
        return [c for c in self.companies() if system in c.systems]

    def fx_rates(self) -> Iterator[tuple[date, str, float]]:
        for d, ccy, rate in self._db.execute("SELECT * FROM fx_rate ORDER BY rate_date, currency"):
            yield date.fromisoformat(d), ccy, rate

    def _latest(
        self, system: str, company_id: str, entity: str, *, as_of: datetime, updated_since: datetime | None,
        updated_before: datetime | None, deleted: bool | None,
    ) -> tuple[str, list[object]]:
        """SQL (and its parameters, in placeholder order) for the latest version of each record visible at
        `as_of`, filtered by update time; more conditions may be appended with AND."""
        where = ["v.system = ?", "v.company_id = ?", "v.entity = ?", "v.updated_at <= ?"]
        params: list[object] = [system, company_id, entity, _ts(as_of)]
        if updated_since is not None:
            where.append("v.updated_at >= ?")
            params.append(_ts(updated_since))
        if updated_before is not None:
            where.append("v.updated_at < ?")
            params.append(_ts(updated_before))
        if deleted is not None:
            where.append("v.deleted = ?")
            params.append(int(deleted))
        sql = f"""
            SELECT v.* FROM record v
            WHERE {' AND '.join(where)}
              AND v.version = (
                SELECT MAX(w.version) FROM record w
                WHERE w.system = v.system AND w.company_id = v.company_id AND w.entity = v.entity
                  AND w.record_id = v.record_id AND w.updated_at <= ?)
        """
        return sql, [*params, _ts(as_of)]

    def records(
        self,
        system: str,
        company_id: str,
        entity: str,
        *,
        as_of: datetime,
        updated_since: datetime | None = None,
        updated_before: datetime | None = None,
        deleted: bool | None = None,
        after: RecordKey | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Iterator[Record]:
        """The latest version visible at `as_of` of each record, ordered by (updated_at, record_id).

        `after` resumes a cursor (Shopify page_info, OData skiptokens); `offset` serves systems that
        page by position (QuickBooks STARTPOSITION, NetSuite offset, Odoo offset, Xero page).
        `deleted` keeps only deleted (True) or only live (False) records; by default both come, and each
        emulator decides how its system shows deletes. Rows stream from the cursor; nothing is materialized.
        """
        sql, params = self._latest(
            system, company_id, entity, as_of=as_of, updated_since=updated_since, updated_before=updated_before,
            deleted=deleted,
        )
        if after is not None:
            sql += " AND (v.updated_at > ? OR (v.updated_at = ? AND v.record_id > ?))"
            params += [_ts(after.updated_at), _ts(after.updated_at), after.record_id]
        sql += " ORDER BY v.updated_at, v.record_id LIMIT ? OFFSET ?"
        for row in self._db.execute(sql, [*params, -1 if limit is None else limit, offset]):
            yield _record(row)

    def count(
        self,
        system: str,
        company_id: str,
        entity: str,
        *,
        as_of: datetime,
        updated_since: datetime | None = None,
        updated_before: datetime | None = None,
        deleted: bool | None = None,
    ) -> int:
        sql, params = self._latest(
            system, company_id, entity, as_of=as_of, updated_since=updated_since, updated_before=updated_before,
            deleted=deleted,
        )
        (n,) = self._db.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()
        return n

    def get(self, system: str, company_id: str, entity: str, record_id: str, *, as_of: datetime) -> Record | None:
        row = self._db.execute(
            """SELECT * FROM record WHERE system = ? AND company_id = ? AND entity = ? AND record_id = ?
               AND updated_at <= ? ORDER BY version DESC LIMIT 1""",
            (system, company_id, entity, record_id, _ts(as_of)),
        ).fetchone()
        return _record(row) if row else None

    def all_versions(self) -> Iterator[Record]:
        """Every stored version in key order: the truth export's source."""
        for row in self._db.execute(
            "SELECT * FROM record ORDER BY system, company_id, entity, record_id, version"
        ):
            yield _record(row)


def _record(row: tuple) -> Record:
    system, company_id, entity, record_id, version, created, updated, deleted, body, truth = row
    return Record(
        system=system, company_id=company_id, entity=entity, record_id=record_id, version=version,
        created_at=_dt(created), updated_at=_dt(updated), deleted=bool(deleted),
        body=orjson.loads(body), truth=orjson.loads(truth),
    )
