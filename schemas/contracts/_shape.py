"""A payload's shape: every path it holds and the JSON type found there, and a short fingerprint of it.

Bronze stores the fingerprint beside each record, so "which shapes did this source send, and since when"
is a group-by; values, key order and array lengths do not change it.
"""

from __future__ import annotations

import hashlib
from typing import Any

ELEMENT = "[]"


def key_segment(key: str) -> str:
    """A key as it appears in a path: "." and "[" escaped, so a key like "@odata.etag" stays one segment."""
    if "." in key or "[" in key or "\\" in key:
        return key.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[")
    return key


def split_parent(path: str) -> tuple[str, str] | None:
    """(parent prefix incl. its trailing ".", key) of an object member's path; None for an array element."""
    if path.endswith(ELEMENT) and not path.endswith("\\" + ELEMENT):
        return None
    cut = -1
    i = 0
    while i < len(path):
        if path[i] == "\\":
            i += 2
            continue
        if path[i] == ".":
            cut = i
        i += 1
    segment = path[cut + 1:]
    return path[: cut + 1], segment.replace("\\.", ".").replace("\\[", "[").replace("\\\\", "\\")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def shape(payload: dict[str, Any]) -> dict[str, str]:
    """Path → JSON type ("null" for a null value; every number is "number", since whether a source
    writes 0 or 0.5 depends on the value). Elements of one array that differ in type are joined with "|"
    in sorted order ("number|string")."""
    out: dict[str, str] = {}
    _collect(payload, "", out)
    return out


def value_paths(value: Any, path: str, out: dict[str, str]) -> None:
    """Record `value` at `path` and everything under it."""
    kind = json_type(value)
    if kind == "integer":
        kind = "number"
    seen = out.get(path)
    if seen is None:
        out[path] = kind
    elif kind not in seen.split("|"):
        out[path] = "|".join(sorted({*seen.split("|"), kind}))
    if kind == "object":
        _collect(value, path + ".", out)
    elif kind == "array":
        for element in value:
            value_paths(element, path + ELEMENT, out)


def _collect(obj: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, value in obj.items():
        value_paths(value, prefix + key_segment(key), out)


def fingerprint(shape_: dict[str, str]) -> str:
    """16 hex characters of the sha256 of the sorted shape: same paths and types, same fingerprint."""
    text = "\n".join(f"{path}\t{shape_[path]}" for path in sorted(shape_))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
