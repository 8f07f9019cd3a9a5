"""Odoo search domains and orders: parsed once, checked against rendered rows, bounds pushed into the stream.

    [("write_date", ">=", "2026-01-01 00:00:00"), "|", ("state", "=", "posted"), ("state", "=", "cancel")]

Terms in Polish notation: '&' (implied between consecutive terms), '|', '!', and leaves
(field, operator, value) with = != <> < <= > >= in, not in, like, not like, ilike, not ilike, =like,
=ilike. A many2one compares by id (an integer or a list of them) or by display name (text); an x2many
matches when it holds the id; a datetime value may be a date ('2026-01-31' = midnight UTC). Dotted
paths (partner_id.name) are not served. Failures raise DomainError with Odoo's ValueError message.

Orders: the sandbox streams every model in write_date, id order, so it serves that order (and its
leading part) and refuses others rather than pretend; no order means the same.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

_SECOND = timedelta(seconds=1)
_TICK = timedelta(microseconds=1)
_OPERATORS = frozenset(
    {"=", "!=", "<>", "<", "<=", ">", ">=", "in", "not in", "like", "not like", "ilike", "not ilike", "=like", "=ilike"}
)
_ORDER_TERM = re.compile(r"^\s*(?P<field>[a-z_][a-z0-9_]*)(?:\s+(?P<direction>asc|desc))?\s*$", re.IGNORECASE)
_STREAM_ORDER = ("write_date", "id")
ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


class DomainError(ValueError):
    """A domain or order Odoo refuses; the message is Odoo's."""


@dataclass(frozen=True)
class Leaf:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Node:
    op: str  # "&", "|" or "!"
    children: tuple[Node | Leaf, ...]


class Domain:
    """A parsed domain over one model's fields (name -> Odoo field type)."""

    def __init__(self, raw: Any, fields: Mapping[str, str], model: str) -> None:
        if raw in (None, False):
            raw = []
        if not isinstance(raw, (list, tuple)):
            raise DomainError(f"Invalid domain {raw!r}: a domain is a list of terms")
        self._fields = fields
        self._model = model
        terms = [self._term(term) for term in raw]
        stack: list[Node | Leaf] = []
        for term in reversed(terms):
            if isinstance(term, str):
                arity = 1 if term == "!" else 2
                if len(stack) < arity:
                    raise DomainError(f"Invalid domain {raw!r}: operator {term!r} lacks operands")
                operands = tuple(stack.pop() for _ in range(arity))
                stack.append(Node(term, operands))
            else:
                stack.append(term)
        self.root = Node("&", tuple(reversed(stack)))

    def _term(self, term: Any) -> str | Leaf:
        if term in ("&", "|", "!"):
            return term
        if not isinstance(term, (list, tuple)) or len(term) != 3:
            raise DomainError(f"Invalid leaf {term!r}")
        field, op, value = term
        if not isinstance(op, str) or op.lower() not in _OPERATORS:
            raise DomainError(f"Invalid leaf {tuple(term)!r}")
        if not isinstance(field, str) or field not in self._fields:
            raise DomainError(f"Invalid field {self._model}.{field} in leaf {tuple(term)!r}")
        op = op.lower()
        if self._fields[field] == "datetime":
            value = _datetime_text(value, term)
        return Leaf(field, op, value)

    def matches(self, row: Mapping[str, Any]) -> bool:
        return _holds(self.root, row, self._fields)

    def _top_leaves(self) -> list[Leaf]:
        return [child for child in self.root.children if isinstance(child, Leaf)]

    def bounds(self, field: str = "write_date") -> tuple[datetime | None, datetime | None]:
        """The [since, before) window the domain's top-level conditions on `field` allow (rows are
        shown to the second, so the window is wide enough and the leaves are checked again per row)."""
        since: datetime | None = None
        before: datetime | None = None
        for leaf in self._top_leaves():
            if leaf.field != field or not isinstance(leaf.value, str):
                continue
            instant = datetime.strptime(leaf.value, ODOO_DATETIME).replace(tzinfo=timezone.utc)
            low = {">=": instant, ">": instant + _TICK, "=": instant}.get(leaf.op)
            high = {"<": instant, "<=": instant + _SECOND, "=": instant + _SECOND}.get(leaf.op)
            if low is not None:
                since = max(low, since) if since else low
            if high is not None:
                before = min(high, before) if before else high
        return since, before

    def ids(self, field: str) -> list[int] | None:
        """The ids a top-level `field = id` or `field in [ids]` condition keeps, if there is one."""
        for leaf in self._top_leaves():
            if leaf.field == field and leaf.op in ("=", "in"):
                values = leaf.value if isinstance(leaf.value, (list, tuple)) else [leaf.value]
                return sorted({v for v in values if isinstance(v, int) and not isinstance(v, bool)})
        return None


def _datetime_text(value: Any, term: Any) -> Any:
    """A datetime leaf's value as Odoo's 'YYYY-MM-DD HH:MM:SS' (a bare date is midnight)."""
    if value is False or isinstance(value, (list, tuple)):
        return value
    if isinstance(value, str):
        for pattern, text in ((ODOO_DATETIME, value), ("%Y-%m-%d", value)):
            try:
                return datetime.strptime(text, pattern).strftime(ODOO_DATETIME)
            except ValueError:
                continue
    raise DomainError(f"Invalid datetime value {value!r} in leaf {tuple(term)!r}: use 'YYYY-MM-DD HH:MM:SS'")


def _holds(node: Node | Leaf, row: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
    if isinstance(node, Leaf):
        return _leaf_holds(node, row.get(node.field, False), fields[node.field])
    if node.op == "!":
        return not _holds(node.children[0], row, fields)
    results = (_holds(child, row, fields) for child in node.children)
    return all(results) if node.op == "&" else any(results)


def _leaf_holds(leaf: Leaf, value: Any, kind: str) -> bool:
    op, wanted = leaf.op, leaf.value
    if kind == "many2one":
        value = _many2one(value, wanted)
    elif kind in ("one2many", "many2many"):
        held = set(value or ())
        if op in ("in", "not in", "=", "!=", "<>"):
            ids = set(wanted) if isinstance(wanted, (list, tuple)) else ({wanted} if wanted else set())
            hit = bool(held & ids) if ids else not held
            return hit == (op in ("in", "="))
        return False
    if op in ("in", "not in"):
        members = wanted if isinstance(wanted, (list, tuple)) else [wanted]
        return (value in members) == (op == "in")
    if op in ("like", "not like", "ilike", "not ilike", "=like", "=ilike"):
        return _like(op, value, wanted)
    if op in ("=", "!=", "<>"):
        return (value == wanted) == (op == "=")
    if value is False or value is None or wanted is False or wanted is None:
        return False
    try:
        return {"<": value < wanted, "<=": value <= wanted, ">": value > wanted, ">=": value >= wanted}[op]
    except TypeError:
        return False


def _many2one(value: Any, wanted: Any) -> Any:
    """A many2one's id, or its display name when the leaf compares text."""
    if not isinstance(value, (list, tuple)):
        return False
    sample = wanted[0] if isinstance(wanted, (list, tuple)) and wanted else wanted
    return value[1] if isinstance(sample, str) else value[0]


def _like(op: str, value: Any, pattern: Any) -> bool:
    if not isinstance(value, str) or not isinstance(pattern, str):
        return op.startswith("not")
    fold = op in ("ilike", "not ilike", "=ilike")
    text, pattern = (value.lower(), pattern.lower()) if fold else (value, pattern)
    if op in ("=like", "=ilike"):
        glob = "".join("*" if ch == "%" else "?" if ch == "_" else "[" + ch + "]" if ch in "[]*?" else ch
                       for ch in pattern)
        return fnmatch.fnmatchcase(text, glob)
    return (pattern in text) == (not op.startswith("not"))


def check_order(order: Any, fields: Sequence[str], model: str) -> None:
    """Refuse an order the sandbox cannot stream (anything but write_date, id ascending or a prefix)."""
    if order in (None, False, ""):
        return
    if not isinstance(order, str):
        raise DomainError(f'Invalid "order" specified ({order!r}). A valid "order" specification is a comma-separated '
                          "list of valid field names (optionally followed by asc/desc for the direction)")
    terms = [_ORDER_TERM.match(part) for part in order.split(",")]
    if any(term is None or term["field"] not in fields for term in terms):
        raise DomainError(f'Invalid "order" specified ({order}). A valid "order" specification is a comma-separated '
                          "list of valid field names (optionally followed by asc/desc for the direction)")
    named = tuple(term["field"] for term in terms if term)
    descending = any(term and (term["direction"] or "asc").lower() == "desc" for term in terms)
    if descending or named != _STREAM_ORDER[: len(named)]:
        raise DomainError(
            f"Order {order!r} is not served by the sandbox: it lists {model} by write_date, id ascending; "
            "order by 'write_date asc, id asc' (or leave the order out)"
        )
