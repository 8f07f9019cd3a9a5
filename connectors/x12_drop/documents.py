"""X12 transaction sets to documents: one record per 810 invoice, 850 purchase order or 856 ship
notice, its segments kept as sent (lists of elements) and split into header, loops and summary.

A set that breaks the envelope (no SE, SE01 not counting its segments, SE02 not its ST02) or lacks
its document number is reported as an error record at its ST line, and the next set reads on. A
segment outside any set is reported on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.base import error_record
from connectors.file_drop import DropFile, source_of
from connectors.x12_drop.tokenizer import Element, Segment, Separators, X12SyntaxError, decode, segments


@dataclass(frozen=True, slots=True)
class DocumentKind:
    code: str  # ST01
    entity: str
    begin: str  # the beginning segment: BIG, BEG, BSN
    number_at: int  # its element holding the document number
    date_at: int
    purpose_at: int  # element 353, transaction set purpose
    loop: str  # the segment each line (or hierarchical level) starts with
    loops_name: str
    summary: str  # the first segment of the summary area


DOCUMENT_KINDS = {
    "810": DocumentKind("810", "invoice", "BIG", 2, 1, 8, "IT1", "lines", "TDS"),
    "850": DocumentKind("850", "purchase_order", "BEG", 3, 5, 1, "PO1", "lines", "CTT"),
    "856": DocumentKind("856", "invoice", "BSN", 2, 3, 1, "HL", "levels", "CTT"),
}

_ENVELOPE = ("ISA", "GS", "GE", "IEA")


def read_interchanges(drop: DropFile, raw: bytes, kind: DocumentKind) -> list[dict[str, Any]]:
    """The file's documents of `kind` and its error records, in file order."""
    out: list[dict[str, Any]] = []
    envelope: dict[str, Any] = {}
    open_set: list[Segment] = []
    try:
        for separators, segment in segments(decode(raw)):
            if segment.tag in _ENVELOPE:
                if open_set:
                    out.append(_error(drop, open_set, f"transaction set has no SE before {segment.tag}"))
                    open_set = []
                envelope.update(_envelope_fields(segment, separators))
            elif segment.tag == "ST":
                if open_set:
                    out.append(_error(drop, open_set, "transaction set has no SE before the next ST"))
                open_set = [segment]
            elif not open_set:
                out.append(_error(drop, [segment], f"{segment.tag} segment outside any ST/SE transaction set"))
            else:
                open_set.append(segment)
                if segment.tag == "SE":
                    out.append(_document(drop, open_set, kind, envelope))
                    open_set = []
    except X12SyntaxError as error:
        out.append(error_record(drop.path, error.line, str(error), ""))
    if open_set:
        out.append(_error(drop, open_set, "transaction set is cut off: the file ends before its SE"))
    return out


def _envelope_fields(segment: Segment, separators: Separators) -> dict[str, Any]:
    e = segment.elements
    if segment.tag == "ISA" and len(e) > 13:
        return {"sender_id": str(e[6]).strip(), "receiver_id": str(e[8]).strip(), "interchange_control": e[13],
                "separators": {"element": separators.element, "component": separators.component,
                               "segment": separators.segment}}
    if segment.tag == "GS" and len(e) > 8:
        return {"functional_id": e[1], "group_control": e[6], "version": e[8]}
    return {}


def _document(drop: DropFile, set_segments: list[Segment], kind: DocumentKind, envelope: dict[str, Any]) -> dict[str, Any]:
    st, se = set_segments[0], set_segments[-1]
    code, control = _at(st, 1), _at(st, 2)
    if _at(se, 1) != str(len(set_segments)):
        return _error(drop, set_segments, f"SE01 says {_at(se, 1)} segments, the set {control} has {len(set_segments)}")
    if _at(se, 2) != control:
        return _error(drop, set_segments, f"SE02 {_at(se, 2)!r} does not close ST02 {control!r}")
    if code != kind.code:
        return _error(drop, set_segments, f"transaction set {code} in a file of {kind.code} sets")
    body = set_segments[1:-1]
    begin = next((s for s in body if s.tag == kind.begin), None)
    if begin is None or not _at(begin, kind.number_at):
        return _error(drop, set_segments, f"{code} set {control} has no {kind.begin}{kind.number_at:02d} document number")
    header, loops, summary = _areas(body, kind)
    return {
        "transaction_set": code, "control_number": control,
        "number": _at(begin, kind.number_at), "date": _at(begin, kind.date_at), "purpose": _at(begin, kind.purpose_at),
        "header": header, kind.loops_name: loops, "summary": summary,
        "_source": source_of(drop, st.line, **envelope),
    }


def _areas(body: list[Segment], kind: DocumentKind) -> tuple[list[list[Element]], list[list[list[Element]]], list[list[Element]]]:
    """Header segments, one segment list per loop (line or level), and the summary segments."""
    header: list[list[Element]] = []
    loops: list[list[list[Element]]] = []
    summary: list[list[Element]] = []
    for segment in body:
        if summary or segment.tag == kind.summary:
            summary.append(segment.elements)
        elif segment.tag == kind.loop:
            loops.append([segment.elements])
        elif loops:
            loops[-1].append(segment.elements)
        else:
            header.append(segment.elements)
    return header, loops, summary


def _at(segment: Segment, index: int) -> str:
    """An element as text ("" when absent; a composite's components rejoined is never wanted here)."""
    value = segment.elements[index] if index < len(segment.elements) else ""
    return value if isinstance(value, str) else ""


def _error(drop: DropFile, set_segments: list[Segment], reason: str) -> dict[str, Any]:
    first = set_segments[0]
    return error_record(drop.path, first.line, reason, "\n".join(s.text for s in set_segments))
