"""Schema drift: a source system changes the shape of one entity's payload from a date on.

One function shared by every system's renderer, applied to the payload a system has already built for
one record version, so drift looks exactly like the system's own wire shape changing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime, time, timezone
from typing import Any

from connectors.sandbox.config import DriftRule


def apply_drift(payload: dict[str, Any], rules: Iterable[DriftRule], updated_at: datetime) -> dict[str, Any]:
    """Apply every rule that reaches a version updated at `updated_at` (on or after the rule's date, UTC).

    `rule.field` is a dotted path; a list on the way applies the rule to each element
    ('Line.Amount' reaches every line). rename moves the field to `rule.to`; retype converts it to
    'string' | 'number' | 'boolean'; add puts a new field named `rule.to` in the object holding the field,
    carrying the field's value, or an empty string when the field itself is new (field = to = 'ProjectRef').
    rename and retype leave a payload without the field alone. The payload is changed in place and returned.
    """
    for rule in rules:
        if updated_at >= datetime.combine(rule.on, time.min, timezone.utc):
            _apply(payload, rule.field.split("."), rule)
    return payload


def _apply(node: Any, path: list[str], rule: DriftRule) -> None:
    if isinstance(node, list):
        for item in node:
            _apply(item, path, rule)
        return
    if not isinstance(node, dict):
        return
    head, *rest = path
    if rest:
        if head in node:
            _apply(node[head], rest, rule)
    elif rule.kind == "add":
        node[rule.to] = copy.deepcopy(node[head]) if head in node else ""
    elif head not in node:
        return
    elif rule.kind == "rename":
        node[rule.to] = node.pop(head)
    else:
        node[head] = _retype(node[head], rule.to)


def _retype(value: Any, to: str) -> Any:
    if to == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) or value is None else str(value)
    if to == "number":
        if isinstance(value, bool):
            return int(value)
        try:
            return float(value) if isinstance(value, str) else value
        except ValueError:
            return value
    if to == "boolean":
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value) if value is not None else None
    raise ValueError(f"drift retype to {to!r} is not one of 'string', 'number', 'boolean': fix the DriftRule")
