"""X12 004010 interchanges: separators, segment text and the ISA/GS … GE/IEA envelope with its
control numbers and counts.

The ISA segment fixes the separators for the whole interchange: the element separator is its 4th
character, the component separator its last element (ISA16) and the segment terminator the
character right after it. Trading partners differ in all three and in whether a line break follows
each terminator, so each company keeps one style for all its files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TextIO

Segment = tuple[str, ...]  # tag first, then its elements; trailing empty elements are dropped


@dataclass(frozen=True, slots=True)
class Separators:
    element: str
    component: str
    segment: str
    line_break: str  # written after each terminator; readers skip it

    def render(self, segment: Segment) -> str:
        tag, *elements = segment
        while elements and elements[-1] == "":
            elements.pop()
        blank_out = _blanking(self.element + self.component + self.segment)
        return self.element.join([tag, *(e.translate(blank_out) for e in elements)]) + self.segment + self.line_break


@cache
def _blanking(separators: str) -> dict[int, str]:
    """Separators and line breaks inside a value would split it: they become spaces."""
    return {ord(char): " " for char in separators + "\r\n"}


#: Styles seen from real partners: one long line; "~" + newline; ":" components with CRLF; "|"
#: elements with a newline as the terminator itself.
SEPARATOR_STYLES: tuple[Separators, ...] = (
    Separators(element="*", component=">", segment="~", line_break=""),
    Separators(element="*", component=">", segment="~", line_break="\n"),
    Separators(element="*", component=":", segment="~", line_break="\r\n"),
    Separators(element="|", component="^", segment="\n", line_break=""),
)


@dataclass(frozen=True, slots=True)
class EnvelopeHeader:
    sender_id: str  # ISA06 / GS02, qualifier ZZ (mutually defined)
    receiver_id: str  # ISA08 / GS03
    functional_id: str  # GS01: IN (810), PO (850), SH (856)
    control_number: int  # ISA13 and GS06: unique per sender; see x12.control_number()
    prepared_at: datetime  # ISA09/10, GS04/05, in the sender's local time

    def __post_init__(self) -> None:
        for name, value in (("sender", self.sender_id), ("receiver", self.receiver_id)):
            if not 1 <= len(value) <= 15:
                raise ValueError(f"X12 {name} id {value!r} must be 1 to 15 characters (ISA06/ISA08)")
        if not 1 <= self.control_number <= 999_999_999:
            raise ValueError(f"X12 control number {self.control_number} does not fit ISA13's 9 digits")


class Interchange:
    """Writes one interchange holding one functional group, counting as it goes so nothing needs
    to be held: ISA and GS on entering, one ST … SE per `add`, GE and IEA on leaving."""

    def __init__(self, out: TextIO, separators: Separators, header: EnvelopeHeader) -> None:
        self._out, self._separators, self._header = out, separators, header
        self._transactions = 0

    def __enter__(self) -> Interchange:
        header, at = self._header, self._header.prepared_at
        isa = (
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", header.sender_id.ljust(15), "ZZ",
            header.receiver_id.ljust(15), f"{at:%y%m%d}", f"{at:%H%M}", "U", "00401",
            f"{header.control_number:09d}", "0", "P", self._separators.component,
        )
        self._out.write(self._separators.element.join(isa) + self._separators.segment + self._separators.line_break)
        self._write(("GS", header.functional_id, header.sender_id, header.receiver_id, f"{at:%Y%m%d}",
                     f"{at:%H%M}", str(header.control_number), "X", "004010"))
        return self

    def add(self, code: str, segments: Sequence[Segment], *, miscount: bool = False) -> None:
        """One transaction set in ST/SE. SE01 counts ST through SE; `miscount` makes it one too many,
        the error a receiver's 997 rejects the set for."""
        self._transactions += 1
        control = f"{self._transactions:04d}"
        self._write(("ST", code, control))
        for segment in segments:
            self._write(segment)
        self._write(("SE", str(len(segments) + 2 + int(miscount)), control))

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self._write(("GE", str(self._transactions), str(self._header.control_number)))
            self._write(("IEA", "1", f"{self._header.control_number:09d}"))

    def _write(self, segment: Segment) -> None:
        self._out.write(self._separators.render(segment))
