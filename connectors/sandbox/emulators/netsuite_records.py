"""How NetSuite shows the sandbox's records: REST record payloads and the rows of SuiteQL tables.

REST records follow shared/fixtures/netsuite/salesOrder_rest.json: camelCase fields, references as
{"links", "id", "refName"}, sublists (item, apply) as links unless expanded, datetimes in UTC to the
second with a Z, transaction dates in the account's time zone, and empty fields left out. SuiteQL rows
hold the raw values netsuite_suiteql.py formats (instants, dates, numbers, checkboxes) plus what
BUILTIN.DF shows for their references. Transactions keep NetSuite's status letters; a voided invoice
keeps its lines at zero with memo VOID; in transactionline, item lines of sales transactions carry
negative quantities and amounts and every transaction has a mainline row, as NetSuite's ledger does.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timezone
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from connectors.sandbox.countries import CURRENCIES
from connectors.sandbox.emulators.netsuite_suiteql import Table
from connectors.sandbox.emulators.wire import local_date, parse_instant, zone
from connectors.sandbox.model import Company, Record

if TYPE_CHECKING:
    from connectors.sandbox.emulators.base import Emulator

RECORD_TYPES: dict[str, str] = {  # REST record type -> neutral entity
    "salesOrder": "sales_order",
    "invoice": "invoice",
    "creditMemo": "credit_note",
    "purchaseOrder": "purchase_order",
    "customerPayment": "payment",
    "customer": "customer",
    "vendor": "vendor",
    "inventoryItem": "product",
}
_TYPE_OF = {entity: record_type for record_type, entity in RECORD_TYPES.items()}
TRANSACTION_TYPES = {  # SuiteQL transaction.type -> neutral entity
    "SalesOrd": "sales_order",
    "CustInvc": "invoice",
    "CustCred": "credit_note",
    "PurchOrd": "purchase_order",
    "CustPymt": "payment",
}
_TRANSACTION_TYPE_OF = {entity: code for code, entity in TRANSACTION_TYPES.items()}
_TRANSACTION_NAMES = {  # what BUILTIN.DF shows for a transaction type
    "sales_order": "Sales Order",
    "invoice": "Invoice",
    "credit_note": "Credit Memo",
    "purchase_order": "Purchase Order",
    "payment": "Payment",
}
_STATUSES: dict[str, dict[str, tuple[str, str]]] = {  # entity -> neutral status -> (code, name)
    "sales_order": {
        "open": ("B", "Pending Fulfillment"), "fulfilled": ("G", "Billed"), "cancelled": ("C", "Cancelled"),
    },
    "invoice": {"open": ("A", "Open"), "paid": ("B", "Paid In Full"), "void": ("V", "Voided")},
    "credit_note": {"open": ("A", "Open"), "paid": ("B", "Fully Applied")},
    "purchase_order": {
        "open": ("B", "Pending Receipt"), "received": ("F", "Pending Bill"), "cancelled": ("H", "Closed"),
    },
}
_SALES_SIDE = frozenset({"sales_order", "invoice"})  # item lines carry negative quantities in SuiteQL
SUBLISTS = {"item": frozenset(_STATUSES), "apply": frozenset({"payment", "credit_note"})}
_PAYMENT_METHODS = {"card": ("5", "Credit Card"), "bank_transfer": ("8", "ACH"), "check": ("2", "Check")}
_CURRENCY_ORDER = ("USD", "GBP", "CAD", "EUR", "JPY", "AUD", "SGD")  # internal ids 1.. as a US account has them
_PARTY_COLUMNS = (
    "id", "entityid", "companyname", "email", "phone", "currency", "isperson", "isinactive", "datecreated",
    "lastmodifieddate",
)
TABLES = {
    "transaction": Table(
        columns=(
            "id", "tranid", "type", "trandate", "entity", "currency", "status", "foreigntotal",
            "foreignamountremaining", "duedate", "otherrefnum", "memo", "voided", "createddate", "lastmodifieddate",
        ),
        updated="lastmodifieddate",
        order=("lastmodifieddate", "id"),
    ),
    "transactionline": Table(
        columns=(
            "transaction", "id", "linesequencenumber", "mainline", "item", "memo", "quantity", "rate",
            "foreignamount", "linelastmodifieddate",
        ),
        updated="linelastmodifieddate",
        order=("linelastmodifieddate", "transaction", "linesequencenumber"),
    ),
    "customer": Table(columns=_PARTY_COLUMNS, updated="lastmodifieddate", order=("lastmodifieddate", "id")),
    "vendor": Table(columns=_PARTY_COLUMNS, updated="lastmodifieddate", order=("lastmodifieddate", "id")),
    "item": Table(
        columns=(
            "id", "itemid", "displayname", "itemtype", "class", "cost", "baseprice", "istaxable", "isinactive",
            "createddate", "lastmodifieddate",
        ),
        updated="lastmodifieddate",
        order=("lastmodifieddate", "id"),
    ),
    "deletedrecord": Table(
        columns=("recordid", "recordtype", "name", "context", "deleteddate"),
        updated="deleteddate",
        order=("deleteddate", "recordid"),
    ),
}
TABLE_ENTITIES: dict[str, tuple[str, ...]] = {
    "transaction": tuple(TRANSACTION_TYPES.values()),
    "transactionline": tuple(TRANSACTION_TYPES.values()),
    "customer": ("customer",),
    "vendor": ("vendor",),
    "item": ("product",),
    "deletedrecord": tuple(RECORD_TYPES.values()),
}
ID_COLUMNS = {"transaction": "id", "transactionline": "transaction", "customer": "id", "vendor": "id", "item": "id"}

SuiteRow = tuple[dict[str, Any], Callable[[str], Any]]  # a SuiteQL row and its BUILTIN.DF display values


def _currency_id(code: Any) -> int | None:
    """A currency's internal id; aliases and lower-case spellings resolve to the currency they mean."""
    if not isinstance(code, str):
        return None
    canonical = code.upper() if code.upper() in CURRENCIES else next(
        (c.code for c in CURRENCIES.values() if c.alias == code), None
    )
    if canonical in _CURRENCY_ORDER:
        return _CURRENCY_ORDER.index(canonical) + 1
    return None


def _utc(value: Any) -> Any:
    """NetSuite's REST datetimes: UTC to the second with a Z ('2020-07-29T08:34:00Z')."""
    instant = parse_instant(value)
    if instant is None:
        return value
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_date(value: Any) -> Any:
    """A local ISO date as a date (SuiteQL formats it); anything unreadable as it is."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


class Links:
    """Hrefs of the account's REST resources, on the host and mount the request came through."""

    def __init__(self, request: Request) -> None:
        self.base = f"{request.base_url}accounts/{request.path_params['account']}/services/rest"

    def record(self, record_type: str, record_id: Any) -> str:
        return f"{self.base}/record/v1/{record_type}/{record_id}"

    @staticmethod
    def self(href: str) -> dict[str, str]:
        return {"rel": "self", "href": href}

    def ref(self, record_type: str, record_id: Any, name: Any) -> dict[str, Any] | None:
        if record_id is None:
            return None
        ref = {"links": [self.self(self.record(record_type, record_id))], "id": str(record_id)}
        if name is not None:
            ref["refName"] = name
        return ref


@dataclass
class View:
    """One request's rendering: links on its host, the account's time zone, names looked up once."""

    emulator: Emulator
    request: Request
    company: Company

    def __post_init__(self) -> None:
        self.links = Links(self.request)
        self.tz = zone(self.company.timezone)
        self._names: dict[tuple[str, str], Any] = {}

    def name(self, entity: str, record_id: Any) -> Any:
        """A referenced record's display name (parties, items) or number (transactions)."""
        key = (entity, str(record_id))
        if key not in self._names:
            found = self.emulator.store.get(
                self.emulator.system, self.company.company_id, entity, str(record_id), as_of=self.emulator.now
            )
            body = found.body if found else {}
            self._names[key] = body.get("name") or body.get("number") or body.get("sku")
        return self._names[key]

    def currency(self, code: Any) -> dict[str, Any] | None:
        currency_id = _currency_id(code)
        return self.links.ref("currency", currency_id, code) if currency_id else {"refName": code}

    # -- REST records ------------------------------------------------------------------------------------

    def record(self, record_type: str, record: Record, *, expand: bool) -> dict[str, Any]:
        entity = record.entity
        if entity in ("customer", "vendor"):
            payload = self._party(record)
        elif entity == "product":
            payload = self._item(record)
        else:
            payload = self._transaction(record_type, record)
            for sublist in SUBLISTS:
                if entity in SUBLISTS[sublist]:
                    payload[sublist] = (
                        self.sublist(record_type, record, sublist)
                        if expand
                        else {"links": [self.links.self(self._sublist_href(record_type, record, sublist))]}
                    )
        present = {name: value for name, value in payload.items() if value is not None}  # NetSuite omits empty fields
        return {"links": [self.links.self(self.links.record(record_type, record.record_id))], **present}

    def _sublist_href(self, record_type: str, record: Record, sublist: str) -> str:
        return f"{self.links.base}/record/v1/{record_type.lower()}/{record.record_id}/{sublist}"

    def sublist(self, record_type: str, record: Record, sublist: str) -> dict[str, Any]:
        rows = self._item_lines(record) if sublist == "item" else self._applied(record)
        return {
            "links": [self.links.self(self._sublist_href(record_type, record, sublist))],
            "items": rows, "totalResults": len(rows), "count": len(rows), "hasMore": False, "offset": 0,
        }

    def _transaction(self, record_type: str, record: Record) -> dict[str, Any]:
        body, entity = record.body, record.entity
        party_entity = "vendor" if entity == "purchase_order" else "customer"
        void = entity == "invoice" and body.get("status") == "void"
        doc: dict[str, Any] = {
            "createdDate": _utc(record.created_at),
            "lastModifiedDate": _utc(record.updated_at),
            "id": record.record_id,
            "tranId": body.get("number"),
            "tranDate": local_date(body.get("issued_at") or body.get("paid_at"), self.tz),
            "currency": self.currency(body.get("currency")),
            "currencyName": body.get("currency"),
            "exchangeRate": 1.0,
            "subsidiary": self.links.ref("subsidiary", 1, "Parent Company"),
        }
        if entity == "payment":
            method = _PAYMENT_METHODS.get(body.get("method"), (None, body.get("method")))
            party_id = body.get("party_id")
            doc["customer"] = self.links.ref("customer", party_id, self.name("customer", party_id))
            doc["payment"] = body.get("amount")
            doc["total"] = body.get("amount")
            if "method" in body:
                doc["paymentMethod"] = {"id": method[0], "refName": method[1]}
            return doc
        code, _ = _STATUSES[entity].get(body.get("status"), (body.get("status"), None))
        party_id = body.get("party_id")
        doc.update(
            entity=self.links.ref(_TYPE_OF[party_entity], party_id, self.name(party_entity, party_id)),
            status=code,
            subtotal=0.0 if void else body.get("subtotal"),
            taxTotal=0.0 if void else body.get("tax_total"),
            discountTotal=0.0,
            total=0.0 if void else body.get("total"),
        )
        if entity == "sales_order":
            doc["orderStatus"] = code
        if "due_on" in body:
            doc["dueDate"] = body["due_on"]
        if "reference" in body:
            doc["otherRefNum"] = body["reference"]
        if "balance" in body:
            doc["amountRemaining"] = body["balance"]
            total, balance = body.get("total"), body["balance"]
            if not void and all(isinstance(v, (int, float)) for v in (total, balance)):
                doc["amountPaid"] = round(total - balance, 2)
        if entity == "credit_note" and body.get("applies_to"):
            doc["createdFrom"] = self.links.ref("invoice", body["applies_to"], self.name("invoice", body["applies_to"]))
        if void:
            doc["memo"] = "VOID"
        return doc

    def _item_lines(self, record: Record) -> list[dict[str, Any]]:
        void = record.entity == "invoice" and record.body.get("status") == "void"
        return [
            {
                "links": [],
                "line": line.get("line_no"),
                "item": self.links.ref("inventoryItem", line.get("product_id"), line.get("sku")),
                "description": line.get("description"),
                "quantity": 0.0 if void else line.get("quantity"),
                "rate": line.get("unit_price"),
                "amount": 0.0 if void else line.get("amount"),
                "tax1Amt": 0.0 if void else line.get("tax_amount"),
            }
            for line in record.body.get("lines", [])
        ]

    def _applied(self, record: Record) -> list[dict[str, Any]]:
        body = record.body
        invoice_id = body.get("invoice_id") or body.get("applies_to")
        if not invoice_id:
            return []
        amount = body.get("amount", body.get("total"))
        return [
            {
                "links": [],
                "apply": True,
                "doc": self.links.ref("invoice", invoice_id, None),
                "refNum": self.name("invoice", invoice_id),
                "type": "Invoice",
                "amount": amount,
                "line": 0,
            }
        ]

    def _party(self, record: Record) -> dict[str, Any]:
        body = record.body
        party = {
            "dateCreated": _utc(record.created_at),
            "lastModifiedDate": _utc(record.updated_at),
            "id": record.record_id,
            "entityId": body.get("name"),
            "companyName": body.get("name"),
            "isPerson": False,
            "isInactive": False,
            "currency": self.currency(body.get("currency")),
            "subsidiary": self.links.ref("subsidiary", 1, "Parent Company"),
        }
        for field, name in (("email", "email"), ("phone", "phone")):
            if field in body:
                party[name] = body[field]
        address = body.get("address")
        if isinstance(address, dict):
            party["defaultAddress"] = "\n".join(
                part
                for part in (
                    address.get("line1"),
                    " ".join(str(address[part]) for part in ("city", "region", "postal_code") if address.get(part)),
                    address.get("country"),
                )
                if part
            )
        return party

    def _item(self, record: Record) -> dict[str, Any]:
        body = record.body
        return {
            "createdDate": _utc(record.created_at),
            "lastModifiedDate": _utc(record.updated_at),
            "id": record.record_id,
            "itemId": body.get("sku"),
            "displayName": body.get("name"),
            "salesDescription": body.get("name"),
            "itemType": "InvtPart",
            "class": {"id": str(_class_id(body.get("category"))), "refName": body.get("category")},
            "basePrice": body.get("unit_price"),
            "cost": body.get("unit_cost"),
            "isTaxable": body.get("taxable"),
            "isInactive": False,
        }

    # -- SuiteQL rows ----------------------------------------------------------------------------------------

    def suiteql_rows(self, table: str, record: Record) -> list[SuiteRow]:
        """The rows `record` contributes to `table` (a transaction gives several transactionline rows)."""
        if table == "deletedrecord":
            row = {
                "recordid": _number(record.record_id),
                "recordtype": _TYPE_OF[record.entity].lower(),
                "name": record.body.get("number") or record.body.get("name") or record.body.get("sku"),
                "context": "UI",
                "deleteddate": record.updated_at,
            }
            return [(row, lambda column: None)]
        if table == "transactionline":
            return self._line_rows(record)
        if table == "item":
            return [self._item_row(record)]
        if table in ("customer", "vendor"):
            return [self._party_row(record)]
        return [self._transaction_row(record)]

    def _transaction_row(self, record: Record) -> SuiteRow:
        body, entity = record.body, record.entity
        party_entity = "vendor" if entity == "purchase_order" else "customer"
        void = entity == "invoice" and body.get("status") == "void"
        status = _STATUSES.get(entity, {}).get(body.get("status"))
        total = body.get("amount") if entity == "payment" else (0.0 if void else body.get("total"))
        row = {
            "id": _number(record.record_id),
            "tranid": body.get("number"),
            "type": _TRANSACTION_TYPE_OF[entity],
            "trandate": _as_date(local_date(body.get("issued_at") or body.get("paid_at"), self.tz)),
            "entity": _number(body.get("party_id")),
            "currency": _currency_id(body.get("currency")),
            "status": status[0] if status else None,
            "foreigntotal": total,
            "foreignamountremaining": body.get("balance"),
            "duedate": _as_date(body.get("due_on")),
            "otherrefnum": body.get("reference"),
            "memo": "VOID" if void else None,
            "voided": void,
            "createddate": record.created_at,
            "lastmodifieddate": record.updated_at,
        }
        displays = {
            "entity": lambda: self.name(party_entity, body.get("party_id")),
            "currency": lambda: body.get("currency"),
            "status": lambda: f"{_TRANSACTION_NAMES[entity]} : {status[1]}" if status else None,
            "type": lambda: _TRANSACTION_NAMES[entity],
        }
        return row, lambda column: displays[column]() if column in displays else row.get(column)

    def _line_rows(self, record: Record) -> list[SuiteRow]:
        body, entity = record.body, record.entity
        void = entity == "invoice" and body.get("status") == "void"
        sign = -1 if entity in _SALES_SIDE else 1
        total = body.get("amount") if entity == "payment" else (0.0 if void else body.get("total"))
        common = {"transaction": _number(record.record_id), "linelastmodifieddate": record.updated_at}
        mainline = {
            **common, "id": 0, "linesequencenumber": 0, "mainline": True, "memo": None,
            "foreignamount": _signed(-sign, total),
        }
        rows: list[SuiteRow] = [(mainline, mainline.get)]
        for line in body.get("lines", []):
            row = {
                **common,
                "id": line.get("line_no"),
                "linesequencenumber": line.get("line_no"),
                "mainline": False,
                "item": _number(line.get("product_id")),
                "memo": line.get("description"),
                "quantity": 0.0 if void else _signed(sign, line.get("quantity")),
                "rate": line.get("unit_price"),
                "foreignamount": 0.0 if void else _signed(sign, line.get("amount")),
            }
            sku = line.get("sku")
            rows.append((row, lambda column, row=row, sku=sku: sku if column == "item" else row.get(column)))
        return rows

    def _party_row(self, record: Record) -> SuiteRow:
        body = record.body
        row = {
            "id": _number(record.record_id),
            "entityid": body.get("name"),
            "companyname": body.get("name"),
            "email": body.get("email"),
            "phone": body.get("phone"),
            "currency": _currency_id(body.get("currency")),
            "isperson": False,
            "isinactive": False,
            "datecreated": record.created_at,
            "lastmodifieddate": record.updated_at,
        }
        currency = body.get("currency")
        return row, lambda column: currency if column == "currency" else row.get(column)

    def _item_row(self, record: Record) -> SuiteRow:
        body = record.body
        row = {
            "id": _number(record.record_id),
            "itemid": body.get("sku"),
            "displayname": body.get("name"),
            "itemtype": "InvtPart",
            "class": _class_id(body.get("category")),
            "cost": body.get("unit_cost"),
            "baseprice": body.get("unit_price"),
            "istaxable": body.get("taxable"),
            "isinactive": False,
            "createddate": record.created_at,
            "lastmodifieddate": record.updated_at,
        }
        category = body.get("category")
        return row, lambda column: category if column == "class" else row.get(column)


def _signed(sign: int, value: Any) -> Any:
    return sign * value if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _class_id(category: Any) -> int:
    return 1 + zlib.crc32(str(category).encode()) % 997
