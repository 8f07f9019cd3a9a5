"""Checking one payload against its contract: additive drift, breaking drift, bad values.

It runs once per landed record inside bronze's mapInArrow, so a contract is compiled once into a flat
map of path → slot and the payload is walked once; nothing is allocated for a clean record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemas.contracts._model import Check, Contract, FieldSpec, Finding
from schemas.contracts._shape import ELEMENT, json_type, key_segment, split_parent, value_paths
from schemas.contracts._values import BLANK_DATES, date_year, decimal_value, in_range, instant_year, is_integer_text, is_number_text

_CLEAN = Check()
_SHOWN_CHARS = 40


@dataclass(slots=True)
class _Findings:
    additive: dict[str, str] = field(default_factory=dict)
    breaking: dict[str, Finding] = field(default_factory=dict)
    violations: dict[str, Finding] = field(default_factory=dict)

    def result(self) -> Check:
        if not (self.additive or self.breaking or self.violations):
            return _CLEAN
        return Check(tuple(self.additive), tuple(self.breaking.values()), tuple(self.violations.values()))


@dataclass(frozen=True, slots=True)
class _Slot:
    path: str
    spec: FieldSpec
    verify: Callable[[Any, _Slot, _Findings], None]
    blanks: frozenset[str]  # texts that mean "no value" here: "" where it may be empty, and its system's empty date


@dataclass(frozen=True, slots=True)
class _Compiled:
    contract: Contract
    slots: dict[str, _Slot]
    required: dict[str, tuple[tuple[str, str], ...]]  # parent prefix → (key, path) of its required members


_compiled: dict[int, _Compiled] = {}
_CACHE_LIMIT = 256


def check(payload: dict[str, Any], contract: Contract) -> Check:
    """Compare one source payload with its contract; see Check for what each part means."""
    compiled = _compile(contract)
    found = _Findings()
    _walk_object(payload, "", compiled, found)
    return found.result()


def _compile(contract: Contract) -> _Compiled:
    cached = _compiled.get(id(contract))
    if cached is not None and cached.contract is contract:
        return cached
    if len(_compiled) >= _CACHE_LIMIT:
        _compiled.clear()
    required: dict[str, list[tuple[str, str]]] = {}
    for path, spec in contract.fields.items():
        parent = split_parent(path)
        if spec.required and parent is not None:
            required.setdefault(parent[0], []).append((parent[1], path))
    empty_dates = BLANK_DATES.get(contract.system, frozenset())
    compiled = _Compiled(
        contract,
        {path: _Slot(path, spec, _VERIFIERS[spec.type], frozenset({"", *empty_dates}) if spec.nullable else frozenset())
         for path, spec in contract.fields.items()},
        {prefix: tuple(members) for prefix, members in required.items()},
    )
    _compiled[id(contract)] = compiled
    return compiled


def _walk_object(obj: dict[str, Any], prefix: str, compiled: _Compiled, found: _Findings) -> None:
    slots = compiled.slots
    for key, value in obj.items():
        path = prefix + key_segment(key)
        slot = slots.get(path)
        if slot is None:
            _added(value, path, found)
        elif value is None:
            if not slot.spec.nullable:
                _violation(found, "null", slot, f"{path}: null, but the contract says it always has a value")
        elif value is False and slot.spec.nullable and slot.spec.type != "boolean":
            continue  # Odoo's "no value", whatever the field's type
        else:
            slot.verify(value, slot, found)
            if type(value) is dict and slot.spec.type == "object":
                _walk_object(value, path + ".", compiled, found)
            elif type(value) is list and slot.spec.type == "array":
                _walk_array(value, path + ELEMENT, compiled, found)
    for key, path in compiled.required.get(prefix, ()):
        if key not in obj:
            found.breaking.setdefault(f"removed:{path}", Finding(
                path, f"removed:{path}", f"{path}: required field is missing (contract "
                f"{compiled.contract.system}/{compiled.contract.stream} v{compiled.contract.version} requires it)",
            ))


def _walk_array(items: list[Any], path: str, compiled: _Compiled, found: _Findings) -> None:
    """Elements of an array whose contract lists no element path are not checked: such an array holds
    values of mixed types (Odoo's [id, name] pairs) or was only ever seen empty."""
    slot = compiled.slots.get(path)
    if slot is None:
        return
    for item in items:
        if item is None:
            if not slot.spec.nullable:
                _violation(found, "null", slot, f"{path}: a null element, but the contract says elements have a value")
        else:
            slot.verify(item, slot, found)
            if type(item) is dict and slot.spec.type == "object":
                _walk_object(item, path + ".", compiled, found)
            elif type(item) is list and slot.spec.type == "array":
                _walk_array(item, path + ELEMENT, compiled, found)


def _added(value: Any, path: str, found: _Findings) -> None:
    value_paths(value, path, found.additive)


def _shown(value: Any, spec: FieldSpec) -> str:
    """The value for a message, unless it is personal data (a quarantine row must not leak it)."""
    return "a personal value" if spec.pii else repr(value)[:_SHOWN_CHARS]


def _violation(found: _Findings, kind: str, slot: _Slot, message: str) -> None:
    found.violations.setdefault(f"{kind}:{slot.path}", Finding(slot.path, f"{kind}:{slot.path}", message))


def _mismatch(value: Any, slot: _Slot, found: _Findings, *, faithful: bool) -> None:
    """A value of another JSON type: breaking drift when it re-encodes a value of the contract's type,
    a violation when it cannot be one."""
    spec = slot.spec
    expected = f"{spec.type} ({spec.format})" if spec.format else spec.type
    if faithful:
        new = json_type(value)
        rule = f"retyped:{slot.path}:{spec.type}->{new}"
        found.breaking.setdefault(rule, Finding(
            slot.path, rule, f"{slot.path}: found {new} {_shown(value, spec)}, contract expects {expected}"))
    else:
        _violation(found, "type", slot, f"{slot.path}: {_shown(value, spec)} cannot be a {expected}")


def _below(number: float, slot: _Slot, found: _Findings, value: Any) -> None:
    if slot.spec.minimum is not None and number < slot.spec.minimum:
        _violation(found, "minimum", slot,
                   f"{slot.path}: {_shown(value, slot.spec)} is below its minimum {slot.spec.minimum:g}")


def _verify_string(value: Any, slot: _Slot, found: _Findings) -> None:
    if type(value) is not str:
        _mismatch(value, slot, found, faithful=type(value) in (int, float, bool))
        return
    kind = slot.spec.format
    if kind is None or value in slot.blanks:
        return
    if kind == "decimal":
        number = decimal_value(value)
        if number is None:
            _violation(found, "type", slot, f"{slot.path}: {_shown(value, slot.spec)} is not a decimal number")
        else:
            _below(number, slot, found, value)
        return
    year = date_year(value) if kind == "date" else instant_year(value)
    if not in_range(year):
        _violation(found, "format", slot,
                   f"{slot.path}: {_shown(value, slot.spec)} is not a {kind} between 1900 and 2100")


def _verify_number(value: Any, slot: _Slot, found: _Findings) -> None:
    kind = type(value)
    if kind is int or kind is float:
        _below(value, slot, found, value)
    else:
        _mismatch(value, slot, found, faithful=kind is str and is_number_text(value))


def _verify_integer(value: Any, slot: _Slot, found: _Findings) -> None:
    kind = type(value)
    if kind is int or (kind is float and value.is_integer()):
        _below(value, slot, found, value)
    else:
        _mismatch(value, slot, found, faithful=kind is str and is_integer_text(value))


def _verify_boolean(value: Any, slot: _Slot, found: _Findings) -> None:
    if type(value) is not bool:
        _mismatch(value, slot, found, faithful=type(value) is str and value.lower() in ("true", "false"))


def _verify_object(value: Any, slot: _Slot, found: _Findings) -> None:
    if type(value) is not dict:
        _mismatch(value, slot, found, faithful=False)


def _verify_array(value: Any, slot: _Slot, found: _Findings) -> None:
    if type(value) is not list:
        _mismatch(value, slot, found, faithful=False)


_VERIFIERS: dict[str, Callable[[Any, _Slot, _Findings], None]] = {
    "string": _verify_string,
    "number": _verify_number,
    "integer": _verify_integer,
    "boolean": _verify_boolean,
    "object": _verify_object,
    "array": _verify_array,
}
