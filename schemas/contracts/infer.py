"""Draft a stream's contract from landed records, for a person to curate (meanings, PII, bounds).

    python -m schemas.contracts.infer <warehouse>/landing --system quickbooks --stream Invoice [--out v1.toml]

Reads every `<landing>/<system>/<stream>/**/part-*.jsonl.gz` line that is not an error. A field is
required only when it is present wherever its parent is (and its name is not one sources leave out:
contact details, due dates, payment methods); a format or bound is proposed when 99 % of the values
fit it, so the sample's own poison records do not decide the draft.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from connectors.base import is_error
from schemas.contracts._model import Contract, FieldSpec
from schemas.contracts._shape import ELEMENT, json_type, key_segment, split_parent
from schemas.contracts._values import BLANK_DATES, date_year, decimal_value, in_range, instant_year

CHANGE_POLICY = """\
Additive (recorded in the drift table, records flow on): a field path this version does not list.
Breaking (records quarantined, a review item opened; approving it writes the next version): a required
field missing, or a field sent as another JSON type that re-encodes the same value (a number sent as
text). Contract violations (quarantined, never drift): a value that cannot be the field's type, a date
that does not parse or falls outside 1900-2100, a value below its minimum, a null where none is allowed."""

_FIT = 0.99
_OPTIONAL_NAME = re.compile(r"mail|phone|mobile|fax|addr|line\d|street|city|region|state|zip|post|country|due|method|"
                            r"note|comment|memo|reference|description", re.IGNORECASE)
_AMOUNT_NAME = re.compile(r"amount|amt|total|price|cost|tax|balance|rate|discount|quantity|qty|payment|credit", re.I)
_QUANTITY_NAME = re.compile(r"quantity|qty|available|onhand|on_hand", re.IGNORECASE)
_DATE_NAME = re.compile(r"date|day|_on$|_at$|time", re.IGNORECASE)
_ID_NAME = re.compile(r"(id|number|code|no|zip|postal.?code|sku)$", re.IGNORECASE)
_EMAIL_NAME = re.compile(r"e.?mail", re.IGNORECASE)
_PHONE_NAME = re.compile(r"phone|mobile|fax|freeformnumber", re.IGNORECASE)
_STREET_NAME = re.compile(r"address.?\d|addressline|^line\d$|street|defaultaddress|address\\?\.line", re.IGNORECASE)
_PERSON_NAME = re.compile(r"^(first_?name|last_?name|name|displayname|customername|billtoname|shiptoname|party_name|"
                          r"entityid|companyname|refname|contactname|shiptocontact)$", re.IGNORECASE)
_PERSON_CONTEXT = re.compile(r"customer|contact|billto|shipto|sellto|party|billing|shipping|entity|address",
                             re.IGNORECASE)

#: Systems that write false for an empty value of any type (Odoo): such fields are nullable.
FALSE_IS_EMPTY = frozenset({"odoo"})
_NOT_PERSONAL_NAME = re.compile(r"(type|status|code|verified_email)$", re.IGNORECASE)
#: Entities whose parties may be consumers; vendors, purchase orders and products name businesses only.
_PERSON_ENTITIES = frozenset({"customer", "invoice", "sales_order", "credit_note", "payment"})
_CUSTOMER_NAME_FIELDS = frozenset({"customername", "billtoname", "shiptoname", "party_name"})

#: Meanings of names most sources share; anything else is left for the curator.
GLOSSARY = {
    "id": "the record's id in the source",
    "email": "email address of the party",
    "phone": "phone number of the party",
    "currency": "ISO 4217 currency of the document's amounts",
    "currencycode": "ISO 4217 currency of the document's amounts",
    "status": "the document's status in the source's own words",
    "lastmodifieddatetime": "last change in the source (UTC); the incremental cursor",
    "updatedat": "last change in the source; the incremental cursor",
    "updateddateutc": "last change in the source (UTC, Microsoft JSON date); the incremental cursor",
    "lastmodifieddate": "last change in the source (UTC); the incremental cursor",
    "createdat": "when the record was created in the source",
    "quantity": "quantity of the item on this line",
    "sku": "the item's stock-keeping unit code",
    "description": "free-text description of the line or item",
    "total": "document total incl. tax, in the document currency",
    "subtotal": "document total before tax, in the document currency",
}


@dataclass
class _Seen:
    present: int = 0
    types: Counter[str] = field(default_factory=Counter)
    strings: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    falses: int = 0


@dataclass
class _Sample:
    system: str
    records: int = 0
    containers: Counter[str] = field(default_factory=Counter)  # object prefix → times seen
    fields: dict[str, _Seen] = field(default_factory=lambda: defaultdict(_Seen))

    def add(self, record: dict[str, Any]) -> None:
        self.records += 1
        self._object(record, "")

    def _object(self, obj: dict[str, Any], prefix: str) -> None:
        self.containers[prefix] += 1
        for key, value in obj.items():
            self._value(value, prefix + key_segment(key), counts_presence=True)

    def _value(self, value: Any, path: str, *, counts_presence: bool) -> None:
        seen = self.fields[path]
        if counts_presence:
            seen.present += 1
        if value is False:
            seen.falses += 1
        seen.types[json_type(value)] += 1
        if isinstance(value, str):
            seen.strings.append(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            seen.numbers.append(float(value))
        elif isinstance(value, dict):
            self._object(value, path + ".")
        elif isinstance(value, list):
            for item in value:
                self._value(item, path + ELEMENT, counts_presence=False)


def landed_records(landing: Path, system: str, stream: str) -> Iterator[dict[str, Any]]:
    for part in sorted((landing / system / stream).glob("**/part-*.jsonl.gz")):
        with gzip.open(part) as lines:
            for line in lines:
                landed = orjson.loads(line)
                record = landed.get("record")
                if not landed.get("error") and isinstance(record, dict) and not is_error(record):
                    yield record


def infer(records: Iterator[dict[str, Any]], system: str, stream: str, entity: str) -> Contract:
    sample = _Sample(system)
    for record in records:
        sample.add(record)
    mixed = [path for path, seen in sample.fields.items() if path.endswith(ELEMENT) and _is_mixed(seen)]
    false_is_empty = system in FALSE_IS_EMPTY
    fields = {path: _spec(path, seen, sample, entity, false_is_empty) for path, seen in sample.fields.items()
              if not any(path.startswith(element) for element in mixed)}
    return Contract(system=system, stream=stream, entity=entity, version=1, change_policy=CHANGE_POLICY,
                    fields=fields)


def _is_mixed(seen: _Seen) -> bool:
    """Elements of more than one kind (Odoo's [id, name]): the contract lists the array, not its elements."""
    return len(set(seen.types) - {"null"} - ({"number"} if "integer" in seen.types else set())) > 1


def _spec(path: str, seen: _Seen, sample: _Sample, entity: str, false_is_empty: bool) -> FieldSpec:
    name = _leaf(path)
    only_false = false_is_empty and seen.falses > 0 and seen.falses == seen.types["boolean"]
    kinds = Counter({kind: n for kind, n in seen.types.items()
                     if kind != "null" and not (kind == "boolean" and only_false and len(seen.types) > 1)})
    kind = "string" if only_false and set(kinds) == {"boolean"} else _type(kinds)
    empty_dates = BLANK_DATES.get(sample.system, frozenset())
    conventional_blank = sum(s in empty_dates for s in seen.strings) >= (1 - _FIT) * len(seen.strings)
    strings = [s for s in seen.strings if s != "" and not (conventional_blank and s in empty_dates)]
    parent = _parent_prefix(path)
    required = (parent is not None and seen.present == sample.containers[parent] and sample.records >= 20
                and not _OPTIONAL_NAME.search(name))
    text_format = _format(name, strings) if kind == "string" else None
    numbers = seen.numbers if kind != "string" else [v for s in strings if (v := decimal_value(s)) is not None]
    minimum = 0.0 if _QUANTITY_NAME.search(name) and numbers and _share(v >= 0 for v in numbers) >= _FIT else None
    return FieldSpec(
        type=kind,
        required=required,
        nullable=("null" in seen.types or len(strings) < len(seen.strings)
                  or (false_is_empty and kind != "boolean" and parent is not None)),
        meaning=GLOSSARY.get(re.sub(r"[^a-z]", "", name.lower())) or _described(path),
        pii=_pii(path, name, entity) if kind in ("string", "array", "object") else None,
        format=text_format,
        minimum=minimum if kind == "number" or text_format == "decimal" else None,
    )


def _described(path: str) -> str:
    """A draft meaning read off the path ("Line[].SalesItemLineDetail.Qty" → "qty of sales item line
    detail, on each line"), for the curator to correct."""
    words = [_words(segment) for segment in re.split(r"(?<!\\)\.", path)]
    text = words[-1] + (f" of {words[-2]}" if len(words) > 1 else "")
    return text.replace(" []", "") + (f", on each {words[0].replace(' []', '')}" if "[]" in path and len(words) > 2 else "")


def _words(segment: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", segment.replace("\\", "")).replace("_", " ").replace("[]", " []")
    return re.sub(r"\s+", " ", spaced).strip().lower()


def _type(kinds: Counter[str]) -> str:
    """The kind most values have; numbers are always "number" ("integer" would turn an amount that was
    whole in every sampled record into a violation the day it is not)."""
    if not kinds:
        return "string"
    if set(kinds) <= {"integer", "number"}:
        return "number"
    numeric = kinds["integer"] + kinds["number"]
    top, count = kinds.most_common(1)[0]
    if numeric > count:
        return "number"
    return top


def _format(name: str, strings: list[str]) -> str | None:
    if not strings:
        return None
    if all(s.isdigit() for s in strings) and not _DATE_NAME.search(name):
        return "decimal" if _AMOUNT_NAME.search(name) and not _ID_NAME.search(name) else None
    if _share(in_range(instant_year(s)) and not in_range(date_year(s)) for s in strings) >= _FIT:
        return "date-time"
    if _share(in_range(date_year(s)) for s in strings) >= _FIT:
        return "date"
    if (_share(decimal_value(s) is not None for s in strings) >= _FIT and not _ID_NAME.search(name)
            and (_AMOUNT_NAME.search(name) or any("." in s or "," in s for s in strings))):
        return "decimal"
    return None


def _pii(path: str, name: str, entity: str) -> str | None:
    if _NOT_PERSONAL_NAME.search(name):
        return None
    if _EMAIL_NAME.search(name) or _PHONE_NAME.search(name) or _STREET_NAME.search(name):
        return "tokenize"
    context = path[: -len(name)] if path.endswith(name) else path
    if _PERSON_NAME.match(name) and entity in _PERSON_ENTITIES and (
            entity == "customer" or _PERSON_CONTEXT.search(context) or name.lower() in _CUSTOMER_NAME_FIELDS):
        return "tokenize"
    return None


def _share(flags: Iterator[bool] | Any) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def _leaf(path: str) -> str:
    while path.endswith(ELEMENT):
        path = path.removesuffix(ELEMENT)
    member = split_parent(path)
    return member[1] if member else path


def _parent_prefix(path: str) -> str | None:
    member = split_parent(path)
    return member[0] if member else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m schemas.contracts.infer", description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path, help="the landing folder (<warehouse>/landing)")
    parser.add_argument("--system", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--entity", help="canonical entity (default: the landing manifest's)")
    parser.add_argument("--out", type=Path, help="file to write the draft to (default: stdout)")
    args = parser.parse_args(argv)
    entity = args.entity or _manifest_entity(args.landing, args.system, args.stream)
    draft = infer(landed_records(args.landing, args.system, args.stream), args.system, args.stream, entity)
    if args.out is None:
        sys.stdout.write(draft.to_toml())
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(draft.to_toml())


def _manifest_entity(landing: Path, system: str, stream: str) -> str:
    for manifest in sorted((landing / system / stream).glob("**/_manifest.json")):
        entity = orjson.loads(manifest.read_bytes()).get("entity")
        if entity:
            return str(entity)
    raise SystemExit(f"no manifest with an entity under {landing / system / stream}: pass --entity")


if __name__ == "__main__":
    main()
