"""The slice of a company's records one drop covers, cut into the local days files are named by."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import groupby
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore


@dataclass(frozen=True, slots=True)
class DropWindow:
    """Records updated in [since, as_of), each in its latest version visible at `as_of`."""

    as_of: datetime
    since: datetime | None = None

    def __post_init__(self) -> None:
        for name, value in (("as_of", self.as_of), ("since", self.since)):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name}={value.isoformat()} has no timezone: pass an aware datetime (UTC)")
        if self.since is not None and self.since >= self.as_of:
            raise ValueError(f"since={self.since.isoformat()} is not before as_of={self.as_of.isoformat()}")

    def records(self, store: SandboxStore, system: str, company_id: str, entity: str) -> Iterator[Record]:
        return store.records(
            system, company_id, entity, as_of=self.as_of, updated_since=self.since, updated_before=self.as_of
        )

    def export_time(self, day: date, tz: ZoneInfo) -> datetime:
        """When the day's file was written: the day's last minute, or `as_of` for a day still running."""
        return min(datetime.combine(day, time(23, 59), tz), self.as_of.astimezone(tz))


def company_timezone(company: Company) -> ZoneInfo:
    try:
        return ZoneInfo(company.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"company {company.company_id} has timezone {company.timezone!r}, which is no IANA zone: "
            "fix it in the sandbox config"
        ) from error


def by_local_day(records: Iterable[Record], tz: ZoneInfo) -> Iterator[tuple[date, Iterator[Record]]]:
    """Group a stream in updated_at order by the local day of its update, lazily: a local date never
    goes backwards while UTC time goes forwards, so each day is one contiguous run."""
    return groupby(records, key=lambda record: record.updated_at.astimezone(tz).date())
