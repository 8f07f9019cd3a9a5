"""X12 interchange text to segments, with the separators each ISA fixes.

The ISA's 4th character is the element separator; after its 16th element separator come ISA16 (the
component separator) and the segment terminator. A file may hold several interchanges, each with its
own separators. Whitespace between segments (line breaks, indentation) is skipped; a UTF-8 BOM is
dropped. Elements holding the component separator become lists of components.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

Element = str | list[str]

_ISA_ELEMENTS = 16
_BETWEEN_SEGMENTS = " \t\r\n"


class X12SyntaxError(ValueError):
    """An interchange cannot be tokenized from here on; carries the line it was found at."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


@dataclass(frozen=True, slots=True)
class Separators:
    element: str
    component: str
    segment: str


@dataclass(frozen=True, slots=True)
class Segment:
    line: int  # 1-based physical line the segment starts on
    text: str  # as in the file, without its terminator
    elements: list[Element]  # tag first

    @property
    def tag(self) -> str:
        return str(self.elements[0])


def decode(raw: bytes) -> str:
    """UTF-8 (BOM or not); Latin-1 for the old partners whose free text is not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def segments(text: str) -> Iterator[tuple[Separators, Segment]]:
    """Every segment of every interchange in `text`, with its interchange's separators. Raises
    X12SyntaxError where no interchange can start (text before an ISA, or a cut-off ISA)."""
    position, line, counted_to = 0, 1, 0
    while True:
        position = _skip_blank(text, position)
        if position >= len(text):
            return
        separators = _separators_at(text, position)
        while position < len(text):
            end = text.find(separators.segment, position)
            end = len(text) if end < 0 else end
            body = text[position:end].rstrip("\r\n") if separators.segment != "\r" else text[position:end]
            line, counted_to = line + text.count("\n", counted_to, position), position
            position = _skip_blank(text, end + 1)
            if body:
                segment = Segment(line, body, _elements(body, separators))
                yield separators, segment
                if segment.tag == "IEA":
                    break


def _skip_blank(text: str, position: int) -> int:
    while position < len(text) and text[position] in _BETWEEN_SEGMENTS:
        position += 1
    return position


def _separators_at(text: str, start: int) -> Separators:
    line = text.count("\n", 0, start) + 1
    if not text.startswith("ISA", start) or len(text) < start + 4:
        raise X12SyntaxError(line, f"expected an ISA segment, found {text[start:start + 20]!r}: not an X12 interchange")
    element = text[start + 3]
    position = start + 3
    for _ in range(_ISA_ELEMENTS - 1):
        position = text.find(element, position + 1)
        if position < 0:
            raise X12SyntaxError(line, f"the ISA has fewer than {_ISA_ELEMENTS} elements (separator {element!r})")
    if len(text) < position + 3:
        raise X12SyntaxError(line, "the ISA is cut off before ISA16 and its segment terminator")
    component, segment = text[position + 1], text[position + 2]
    if len({element, component, segment}) < 3 or segment.isalnum() or element.isalnum():
        raise X12SyntaxError(line, f"the ISA's separators {element!r}, {component!r}, {segment!r} are not three "
                             "distinct non-alphanumeric characters")
    return Separators(element, component, segment)


def _elements(body: str, separators: Separators) -> list[Element]:
    tag, *rest = body.split(separators.element)
    if tag == "ISA":
        return [tag, *rest]
    return [tag, *(e.split(separators.component) if separators.component in e else e for e in rest)]
