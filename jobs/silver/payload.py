"""Bronze payload text → a Spark struct, with the struct's schema derived from the stream's contract.

Every leaf is read as text (Spark's JSON reader hands a number or boolean to a string field as its JSON
text), so parsing never loses a value and never fails: the mappings cast explicitly, and a value that does
not cast is a mapping problem naming its field, not a silent null. Objects become structs and arrays of
objects arrays of structs; a field the contract types "object" or "array" without listing its members
(Odoo's many2one pairs) stays JSON text, or an array of texts.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from schemas.contracts import Contract
from schemas.contracts._shape import ELEMENT


def segments(path: str) -> list[tuple[str, int]]:
    """A contract path as (key, array depth) steps: "Line[].Detail.Qty" → [("Line", 1), ("Detail", 0), ("Qty", 0)]."""
    steps: list[tuple[str, int]] = []
    key, i = [], 0
    while i <= len(path):
        char = path[i] if i < len(path) else "."
        if char == "\\" and i + 1 < len(path):
            key.append(path[i + 1])
            i += 2
            continue
        if char == "." or path.startswith(ELEMENT, i):
            depth = 0
            while path.startswith(ELEMENT, i):
                depth, i = depth + 1, i + len(ELEMENT)
            steps.append(("".join(key), depth))
            key = []
            i += 1  # the "." after the key (or after its "[]"s)
            continue
        key.append(char)
        i += 1
    return steps


class _Node:
    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.depth = 0
        self.array = False  # typed "array" without its elements listed (Odoo's [id, "name"] pairs)

    def spark_type(self) -> T.DataType:
        if self.children:
            element: T.DataType = T.StructType([T.StructField(k, c.spark_type()) for k, c in sorted(self.children.items())])
        else:
            element = T.StringType()
        for _ in range(max(self.depth, int(self.array))):
            element = T.ArrayType(element)
        return element


def parse_schema(contract: Contract) -> T.StructType:
    """The struct every payload of the contract's stream parses into (all leaves text)."""
    root = _Node()
    for path, spec in contract.fields.items():
        node = root
        for key, depth in segments(path):
            node = node.children.setdefault(key, _Node())
            node.depth = max(node.depth, depth)
        node.array = node.array or (spec.type == "array" and not path.endswith("[]"))
    return root.spark_type()


def parsed(payload: Column, contract: Contract) -> Column:
    """The payload column as the contract's struct (fields a newer payload adds are ignored until a contract
    version lists them)."""
    return F.from_json(payload, parse_schema(contract), {"mode": "PERMISSIVE"})
