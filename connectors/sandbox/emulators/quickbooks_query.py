"""The subset of the QuickBooks Online query language the sandbox answers.

    SELECT * | COUNT(*) FROM <Entity>
      [WHERE <cond> [AND <cond>]...]   cond: MetaData.LastUpdatedTime (=|<|<=|>|>=) '<dateTime>'
                                              | Active = true|false | Active IN (true, false)
      [ORDERBY | ORDER BY MetaData.LastUpdatedTime [ASC]]
      [STARTPOSITION n] [MAXRESULTS n]

Keywords, entity and property names are case-insensitive, as on QBO. Failures raise QueryError carrying
QBO's ValidationFault message and code: 4000 for text the parser cannot read, 4001 for a readable query
the sandbox cannot answer (another property, DESC order, an unknown entity).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.sandbox.emulators.query_text import Token, TokenCursor, tokenize

MAX_RESULTS = 1000
DEFAULT_MAX_RESULTS = 100
_UPDATED = "metadata.lastupdatedtime"
_TICK = timedelta(microseconds=1)

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<number>\d+)|(?P<op><=|>=|!=|=|<|>)"
    r"|(?P<punct>[*(),])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_KIND_NAMES = {"string": "<STRING>", "number": "<INTEGER>", "word": "<ID>", "end": "<EOF>"}


class QueryError(Exception):
    def __init__(self, message: str, detail: str, code: str) -> None:
        super().__init__(detail)
        self.message = message
        self.detail = detail
        self.code = code


@dataclass(frozen=True)
class Query:
    entity: str  # as the caller's entity list spells it ('Invoice')
    count: bool = False
    updated_since: datetime | None = None  # inclusive
    updated_before: datetime | None = None  # exclusive
    active: frozenset[bool] | None = None  # None: the entity's default (QBO lists active names only)
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def _unreadable(token: Token) -> QueryError:
    return _parse_error(token, "a keyword, a name or a value")


def _parse_error(token: Token, expected: str) -> QueryError:
    kind = _KIND_NAMES.get(token.kind, f'"{token.text}"')
    return QueryError(
        "Error parsing query",
        f'QueryParserError: Encountered " {kind} "{token.text} "" at line 1, column {token.column}.\n'
        f"Was expecting:\n    {expected} ...",
        "4000",
    )


def _unsupported(detail: str) -> QueryError:
    return QueryError("Invalid query", f"QueryValidationError: {detail}", "4001")


class _Parser(TokenCursor):
    def __init__(self, text: str, default_tz: ZoneInfo) -> None:
        super().__init__(tokenize(text, _TOKEN, _unreadable))
        self._tz = default_tz

    def unexpected(self, token: Token, expected: str) -> QueryError:
        return _parse_error(token, expected)

    def any_of(self, words: tuple[str, ...]) -> str:
        return " | ".join(f'"{word}"' for word in words)

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.take()
        if token.kind != kind or (text is not None and token.text != text):
            raise _parse_error(token, f'"{text}"' if text else _KIND_NAMES.get(kind, kind))
        return token

    def parse(self, entities: Iterable[str]) -> Query:
        self.expect_word("select")
        count = False
        if self.peek().is_word("count"):
            self.take()
            self.expect("punct", "(")
            self.expect("punct", "*")
            self.expect("punct", ")")
            count = True
        else:
            self.expect("punct", "*")
        self.expect_word("from")
        name = self.expect("word")
        entity = next((known for known in entities if known.lower() == name.text.lower()), None)
        if entity is None:
            raise _unsupported(f"{name.text} is not a valid entity; query one of {', '.join(entities)}")
        fields: dict[str, object] = {"entity": entity, "count": count}
        if self.peek().is_word("where"):
            self.take()
            self._conditions(fields)
        if self.peek().is_word("order", "orderby"):
            self._order_by()
        for keyword, field in (("startposition", "start_position"), ("maxresults", "max_results")):
            if self.peek().is_word(keyword):
                self.take()
                value = int(self.expect("number").text)
                if value < 1:
                    raise _unsupported(f"{keyword.upper()} must be a positive integer, got {value}")
                fields[field] = min(value, MAX_RESULTS) if field == "max_results" else value
        end = self.take()
        if end.kind != "end":
            raise _parse_error(end, "<EOF>")
        return Query(**fields)  # type: ignore[arg-type]

    def _conditions(self, fields: dict[str, object]) -> None:
        while True:
            name = self.expect("word")
            if name.text.lower() == _UPDATED:
                self._updated(fields)
            elif name.text.lower() == "active":
                fields["active"] = self._active()
            else:
                raise _unsupported(
                    f"property {name.text} is not queryable in the sandbox; "
                    "filter on MetaData.LastUpdatedTime or Active"
                )
            if not self.peek().is_word("and"):
                return
            self.take()

    def _updated(self, fields: dict[str, object]) -> None:
        op = self.expect("op")
        literal = self.expect("string")
        instant = self._instant(literal.text[1:-1])
        since, before = fields.get("updated_since"), fields.get("updated_before")
        bounds = {
            ">=": (instant, None),
            ">": (instant + _TICK, None),
            "<": (None, instant),
            "<=": (None, instant + _TICK),
            "=": (instant, instant + _TICK),
        }
        if op.text not in bounds:
            raise _unsupported(f"operator {op.text} is not supported on MetaData.LastUpdatedTime")
        low, high = bounds[op.text]
        if low is not None:
            fields["updated_since"] = max(low, since) if isinstance(since, datetime) else low
        if high is not None:
            fields["updated_before"] = min(high, before) if isinstance(before, datetime) else high

    def _instant(self, text: str) -> datetime:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise _unsupported(f"'{text}' is not a valid dateTime for MetaData.LastUpdatedTime") from None
        return value if value.tzinfo else value.replace(tzinfo=self._tz)

    def _active(self) -> frozenset[bool]:
        op = self.take()
        if op.kind == "op" and op.text == "=":
            return frozenset({self._boolean()})
        if not op.is_word("in"):
            raise _parse_error(op, '"=" | "IN"')
        self.expect("punct", "(")
        values = {self._boolean()}
        while self.peek().kind == "punct" and self.peek().text == ",":
            self.take()
            values.add(self._boolean())
        self.expect("punct", ")")
        return frozenset(values)

    def _boolean(self) -> bool:
        token = self.take()
        text = token.text.strip("'").lower()
        if text not in ("true", "false"):
            raise _parse_error(token, '"true" | "false"')
        return text == "true"

    def _order_by(self) -> None:
        if self.take().text.lower() == "order":
            self.expect_word("by")
        name = self.expect("word")
        if name.text.lower() != _UPDATED:
            raise _unsupported(
                f"ORDERBY {name.text} is not supported in the sandbox; order by MetaData.LastUpdatedTime"
            )
        if self.peek().is_word("desc"):
            raise _unsupported("ORDERBY ... DESC is not supported in the sandbox; page ascending")
        if self.peek().is_word("asc"):
            self.take()


def parse_query(text: str, entities: Iterable[str], *, default_tz: ZoneInfo) -> Query:
    """`entities` are the names the endpoint serves; a dateTime without offset is read in `default_tz`."""
    return _Parser(text, default_tz).parse(list(entities))
