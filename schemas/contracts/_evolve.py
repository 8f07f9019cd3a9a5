"""Contract versions: the next version an approved drift asks for, and what changed between two versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from schemas.contracts._model import Compatibility, Contract, ContractError, FieldSpec
from schemas.contracts._shape import shape

ADDED_MEANING = "added by approved drift"
_NUMERIC = ("number", "integer")


def evolve(contract: Contract, breaking: Iterable[str], additive: Iterable[str],
           sample_payload: dict[str, Any]) -> Contract:
    """The next version accepting an approved drift: a retyped field takes its new type (a number now
    sent as text becomes a "decimal" string), a removed required field becomes optional, and each added
    path joins as optional with its type taken from `sample_payload`."""
    fields = dict(contract.fields)
    for rule in breaking:
        kind, _, rest = rule.partition(":")
        if kind == "removed":
            fields[rest] = _known(fields, rest, contract).model_copy(update={"required": False})
        elif kind == "retyped":
            path, _, change = rest.rpartition(":")
            old_type, _, new_type = change.partition("->")
            fields[path] = _retyped(_known(fields, path, contract), old_type, new_type)
        else:
            raise ContractError(
                f"{contract.system}/{contract.stream}: rule {rule!r} is not drift a new version can accept "
                "(only removed:<path> and retyped:<path>:<old>-><new>); fix the data and replay instead"
            )
    sample_shape = shape(sample_payload)
    for path in additive:
        if path in fields:
            continue
        if path not in sample_shape:
            raise ContractError(
                f"{contract.system}/{contract.stream}: added path {path!r} is not in the sample payload; "
                "approve the drift with a payload that carries it"
            )
        fields[path] = _added_spec(sample_shape[path])
    return contract.model_copy(update={"version": contract.version + 1, "fields": fields})


def _known(fields: dict[str, FieldSpec], path: str, contract: Contract) -> FieldSpec:
    if path not in fields:
        raise ContractError(f"{contract.system}/{contract.stream} v{contract.version} has no field {path!r} "
                            "to change; check the drift rule")
    return fields[path]


def _retyped(spec: FieldSpec, old_type: str, new_type: str) -> FieldSpec:
    if new_type == "string":
        text_format = "decimal" if old_type in _NUMERIC else None
        return spec.model_copy(update={"type": "string", "format": text_format})
    keeps_minimum = new_type in _NUMERIC
    return spec.model_copy(update={
        "type": new_type, "format": None, "minimum": spec.minimum if keeps_minimum else None,
    })


def _added_spec(seen: str) -> FieldSpec:
    kinds = set(seen.split("|")) - {"null"}
    if not kinds:
        return FieldSpec(type="string", nullable=True, meaning=ADDED_MEANING)
    kind = "number" if kinds <= {"integer", "number"} and len(kinds) > 1 else sorted(kinds)[0]
    return FieldSpec(type=kind, nullable="null" in seen, meaning=ADDED_MEANING)


def compare(old: Contract, new: Contract) -> Compatibility:
    """What `new` changes for payloads that satisfied `old`: an added optional field is additive; a
    removed field, a retype, optional→required, a null no longer allowed, a new or changed format and a
    tighter bound are breaking."""
    additive: list[str] = []
    breaking: list[str] = []
    for path in sorted(old.fields.keys() | new.fields.keys()):
        before, after = old.fields.get(path), new.fields.get(path)
        if after is None:
            breaking.append(f"removed:{path}")
        elif before is None:
            (breaking if after.required else additive).append(f"required:{path}" if after.required else path)
        else:
            breaking.extend(_tightened(path, before, after))
    return Compatibility(tuple(additive), tuple(breaking))


def _tightened(path: str, before: FieldSpec, after: FieldSpec) -> list[str]:
    changes = []
    if before.type != after.type:
        changes.append(f"retyped:{path}:{before.type}->{after.type}")
    if after.required and not before.required:
        changes.append(f"required:{path}")
    if before.nullable and not after.nullable:
        changes.append(f"nullable:{path}")
    if before.type == after.type and after.format is not None and after.format != before.format:
        changes.append(f"format:{path}")
    if after.minimum is not None and (before.minimum is None or after.minimum > before.minimum):
        changes.append(f"minimum:{path}")
    return changes
