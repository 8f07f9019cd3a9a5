"""NetSuite's streams: one per REST record type, and one of deletions per record type (SuiteQL deletedrecord).

Each record type also names the SuiteQL table (and condition) that holds the same records, the fallback for
an account whose REST record service cannot serve that type: SuiteQL rows then stand in for records (their
columns lower-case, their dates in the account's format and time zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import Stream
from connectors.dates import parse_instant


@dataclass(frozen=True)
class RecordType:
    name: str  # the REST record type, e.g. "salesOrder"
    entity: str
    table: str  # the SuiteQL table holding the same records
    condition: str | None = None  # narrows a shared table to this record type

    def suiteql(self, window: list[str]) -> str:
        conditions = " AND ".join([self.condition, *window] if self.condition else window)
        return f"SELECT * FROM {self.table} WHERE {conditions} ORDER BY lastmodifieddate, id"

    def deleted_suiteql(self, window: list[str]) -> str:
        conditions = " AND ".join([f"recordtype = '{self.name.lower()}'", *window])
        return (
            "SELECT recordid, recordtype, name, context, TO_CHAR(deleteddate, 'YYYY-MM-DD HH24:MI:SS') AS deleteddate "
            f"FROM deletedrecord WHERE {conditions} ORDER BY deleteddate, recordid"
        )


RECORD_TYPES = (
    RecordType("customer", "customer", "customer"),
    RecordType("vendor", "vendor", "vendor"),
    RecordType("inventoryItem", "product", "item", "itemtype = 'InvtPart'"),
    RecordType("salesOrder", "sales_order", "transaction", "type = 'SalesOrd'"),
    RecordType("invoice", "invoice", "transaction", "type = 'CustInvc'"),
    RecordType("customerPayment", "payment", "transaction", "type = 'CustPymt'"),
    RecordType("creditMemo", "credit_note", "transaction", "type = 'CustCred'"),
    RecordType("purchaseOrder", "purchase_order", "transaction", "type = 'PurchOrd'"),
)
BY_STREAM = {record_type.name: record_type for record_type in RECORD_TYPES}
DELETED_SUFFIX = ".deleted"


def deleted_stream_name(record_type: RecordType) -> str:
    return f"{record_type.name}{DELETED_SUFFIX}"


def streams(entities: tuple[str, ...], tz: ZoneInfo) -> list[Stream]:
    """The live and deletion streams of the record types feeding `entities`."""

    def updated(record: dict[str, Any]) -> datetime | None:
        # REST: 'lastModifiedDate' in UTC; SuiteQL fallback: 'lastmodifieddate' as the account's M/D/YYYY.
        return parse_instant(record.get("lastModifiedDate") or record.get("lastmodifieddate"), tz=tz.key)

    def deleted_at(record: dict[str, Any]) -> datetime | None:
        return parse_instant(record.get("deleteddate"), tz=tz.key)

    chosen = [record_type for record_type in RECORD_TYPES if record_type.entity in entities]
    live = [Stream(rt.name, rt.entity, key=lambda r: str(r["id"]), updated_at=updated) for rt in chosen]
    gone = [
        Stream(deleted_stream_name(rt), rt.entity, key=lambda r: str(r["recordid"]), updated_at=deleted_at,
               deletes=True)
        for rt in chosen
    ]
    return live + gone
