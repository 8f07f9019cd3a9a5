"""The data defects the sandbox plants in record bodies, each named so Record.truth can say which.

Pure functions of a body and a seeded `random.Random`: the renderer decides which records get a
defect (at the configured rates); these decide what the defect looks like.

Names in Record.truth["defects"]: "duplicate" (with truth "duplicate_of"), "spelling_variant",
"missing:<field>", "currency_lowercase", "currency_alias", "poison" (with truth "poison" = the field,
or "row" for a CSV row the file drop breaks), and on the version where they happen "late_edit",
"void" and "delete".
"""

from __future__ import annotations

import random
from typing import Any

from connectors.sandbox.countries import CURRENCIES

#: Impossible values per field of a document: what a broken integration or a bad import writes.
_POISON: dict[str, Any] = {
    "lines.quantity": None,  # negated: a negative quantity on a sale
    "total": "N/A",  # a total that is not a number
    "issued_at": "0001-01-01T00:00:00Z",  # a date in year 0001
    "due_on": "0000-00-00",  # a date that does not exist
}
#: The file drop writes a malformed row (wrong column count, broken quote) for this poison.
ROW_POISON = "row"

#: Optional fields per entity, any one of which may be missing.
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("email", "phone", "address"),
    "vendor": ("email", "phone", "address"),
    "invoice": ("due_on",),
    "purchase_order": ("due_on",),
    "payment": ("method",),
}


def poison_fields(body: dict[str, Any], system: str) -> tuple[str, ...]:
    fields = tuple(f for f in _POISON if f.split(".")[0] in body)
    return fields + ((ROW_POISON,) if system == "csv" else ())


def poisoned(body: dict[str, Any], field: str) -> dict[str, Any]:
    """A copy of a document body with `field` made impossible (`row` leaves the body intact: the
    file drop breaks the row instead)."""
    out = dict(body)
    if field == "lines.quantity":
        out["lines"] = [dict(line) for line in body["lines"]]
        out["lines"][0]["quantity"] = -abs(out["lines"][0]["quantity"])
    elif field != ROW_POISON:
        out[field] = _POISON[field]
    return out


def bad_currency(code: str, rnd: random.Random) -> tuple[str, str]:
    """A currency code as some systems and people key it: lowercase or a non-ISO alias."""
    if rnd.random() < 0.5:
        return code.lower(), "currency_lowercase"
    return CURRENCIES[code].alias, "currency_alias"


def without_optional(body: dict[str, Any], entity: str, rnd: random.Random) -> tuple[dict[str, Any], str | None]:
    present = [f for f in OPTIONAL_FIELDS.get(entity, ()) if f in body]
    if not present:
        return body, None
    field = rnd.choice(present)
    return {k: v for k, v in body.items() if k != field}, f"missing:{field}"
