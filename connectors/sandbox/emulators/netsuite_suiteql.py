"""NetSuite's two query languages, in the subset an incremental connector uses.

SuiteQL (POST /query/v1/suiteql):

    SELECT * | item [, item]...  FROM <table> [alias]
      [WHERE cond [AND cond]...]
      [ORDER BY column [ASC] [, column [ASC]]...]
    item:  column [[AS] name] | TO_CHAR(column, '<format>') [[AS] name] | BUILTIN.DF(column) [[AS] name]
    cond:  column (= | != | <> | < | <= | > | >=) literal | column [NOT] IN (literal, ...)
           | column IS [NOT] NULL
    literal: 'text' | number | TO_DATE('text', '<format>') | TO_TIMESTAMP('text', '<format>')

Names are case-insensitive and come back lower-case; a column may be qualified by the table's alias.
As in NetSuite, values come back as text, NULL columns are left out of a row, dates and datetimes
read as the account's date format (M/D/YYYY) in the account's time zone unless TO_CHAR formats them,
naive datetime literals are in that time zone, BUILTIN.DF gives a reference's display name, and an
unnamed expression is called exprN. ORDER BY
may only follow the order the sandbox streams a table in (its `order` columns, ascending).

Record filters (GET /record/v1/<type>?q=...):

    lastModifiedDate AFTER | ON_OR_AFTER | BEFORE | ON_OR_BEFORE | ON "<date or datetime>" [AND ...]

A date ("1/31/2026", "2026-01-31") means that whole day in the account's time zone; a datetime
("2026-01-31T08:00:00Z", "2026-01-31 08:00:00") is an instant (naive = the account's time zone).

Failures raise QueryError with the part of NetSuite's message that follows "Search error occurred:".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from connectors.sandbox.emulators.query_text import Token, TokenCursor, tokenize

_TICK = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_COMPARISONS = ("=", "!=", "<>", "<", "<=", ">", ">=")
_LOWER_BOUND = {">=": 0, ">": 1}  # op -> whether the bound is exclusive
_UPPER_BOUND = {"<": 0, "<=": 1}

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[*(),.;])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_FORMAT_TOKEN = re.compile(r'YYYY|HH24|MM|DD|MI|SS|"[^"]*"|[-/:., T]', re.IGNORECASE)
_STRFTIME = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH24": "%H", "MI": "%M", "SS": "%S"}


class QueryError(Exception):
    """A query NetSuite would refuse; the message is NetSuite's reason."""


@dataclass(frozen=True)
class Table:
    """What a SuiteQL table offers: its columns (in SELECT * order) and how the sandbox streams it."""

    columns: tuple[str, ...]
    updated: str  # the column rows stream by; conditions on it narrow the stream itself
    order: tuple[str, ...]  # the stream's order; ORDER BY may name a prefix of it


@dataclass(frozen=True)
class Selected:
    column: str
    name: str  # the key in the answered row
    to_char: str | None = None  # strftime pattern of TO_CHAR(column, format)
    display: bool = False  # BUILTIN.DF(column): the display name instead of the internal value


@dataclass(frozen=True)
class Condition:
    column: str
    op: str  # a comparison, "in", "not in", "is null" or "is not null"
    values: tuple[Any, ...]

    def holds(self, row: Mapping[str, Any]) -> bool:
        value = row.get(self.column)
        if self.op in ("is null", "is not null"):
            return (value is None) == (self.op == "is null")
        if value is None:
            return False
        if self.op in ("in", "not in"):
            return any(_compare(value, v) == 0 for v in self.values) == (self.op == "in")
        order = _compare(value, self.values[0])
        return {
            "=": order == 0, "!=": order != 0, "<>": order != 0, "<": order < 0, "<=": order <= 0,
            ">": order > 0, ">=": order >= 0,
        }[self.op]


@dataclass(frozen=True)
class SuiteQL:
    table: str
    selected: tuple[Selected, ...]  # empty: SELECT *
    conditions: tuple[Condition, ...]  # checked row by row
    updated_since: datetime | None = None  # inclusive bound on the table's `updated` column
    updated_before: datetime | None = None  # exclusive

    def matches(self, row: Mapping[str, Any]) -> bool:
        return all(condition.holds(row) for condition in self.conditions)

    def answer(
        self, row: Mapping[str, Any], columns: Iterable[str], tz: tzinfo, display: Callable[[str], Any]
    ) -> dict[str, str]:
        """The row as SuiteQL answers it: selected columns as text, NULLs left out; `display` gives a
        column's BUILTIN.DF value."""
        selected = self.selected or tuple(Selected(column, column) for column in columns)
        out: dict[str, str] = {}
        for item in selected:
            value = display(item.column) if item.display else row.get(item.column)
            if value is not None:
                out[item.name] = _text(value, tz, item.to_char)
        return out


def _compare(value: Any, literal: Any) -> int:
    """Order of a row value against a literal: instants as instants, numbers as numbers, else text
    (checkboxes are 'T' and 'F' in SuiteQL)."""
    if isinstance(value, bool):
        value = "T" if value else "F"
    if isinstance(literal, datetime) and isinstance(value, date):
        if not isinstance(value, datetime):
            literal = literal.date()  # a date column against a date literal of the account's zone
        return (value > literal) - (value < literal)
    left, right = _number(value), _number(literal)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    a, b = str(value), str(literal)
    return (a > b) - (a < b)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: Any, tz: tzinfo, to_char: str | None) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, datetime):
        local = _local(value, tz)
        return local.strftime(to_char) if to_char else _account_date(local.date())
    if isinstance(value, date):
        return value.strftime(to_char) if to_char else _account_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _local(value: datetime, tz: tzinfo) -> datetime:
    try:
        return value.astimezone(tz)
    except OverflowError:  # year 0001 west of Greenwich: shown as stored
        return value


def _account_date(value: date) -> str:
    """The account's date preference (the US default, M/D/YYYY)."""
    return f"{value.month}/{value.day}/{value.year}"


def strftime_pattern(oracle_format: str) -> str:
    """An Oracle datetime format ('YYYY-MM-DD HH24:MI:SS', 'YYYY-MM-DD"T"HH24:MI:SS') as strftime."""
    position, pattern = 0, []
    while position < len(oracle_format):
        match = _FORMAT_TOKEN.match(oracle_format, position)
        if match is None:
            raise QueryError(f"Invalid date format '{oracle_format}': '{oracle_format[position:]}' is not understood.")
        token = match.group(0)
        if token.startswith('"'):
            pattern.append(token[1:-1].replace("%", "%%"))
        else:
            pattern.append(_STRFTIME.get(token.upper(), token))
        position = match.end()
    return "".join(pattern)


def _unreadable(token: Token) -> QueryError:
    return QueryError(f"Invalid or unsupported search: unexpected '{token.text}' at position {token.column}.")


class _Parser(TokenCursor):
    def __init__(self, text: str, tables: Mapping[str, Table], tz: tzinfo) -> None:
        super().__init__(tokenize(text, _TOKEN, _unreadable))
        self._tables = tables
        self._tz = tz
        self._table = ""
        self._alias = ""

    def unexpected(self, token: Token, expected: str) -> QueryError:
        return _unexpected(token, expected)

    def any_of(self, words: tuple[str, ...]) -> str:
        return " or ".join(word.upper() for word in words)

    def expect_punct(self, text: str) -> None:
        token = self.take()
        if not token.is_punct(text):
            raise _unexpected(token, f"'{text}'")

    def parse(self) -> SuiteQL:
        self.expect_word("select")
        start = self._at
        while not self.peek().is_word("from") and self.peek().kind != "end":
            self.take()
        self.expect_word("from")
        name = self.take()
        if name.kind != "word":
            raise _unexpected(name, "a table name")
        self._table = name.text.lower()
        if self._table not in self._tables:
            raise QueryError(f"Record '{name.text}' was not found.")
        if self.peek().kind == "word" and not self.peek().is_word("where", "order"):
            self._alias = self.take().text.lower()
        rest = self._at
        self._at = start
        selected = self._select_list()
        self._at = rest
        fields: dict[str, Any] = {"table": self._table, "selected": selected, "conditions": ()}
        if self.peek().is_word("where"):
            self.take()
            self._where(fields)
        if self.peek().is_word("order"):
            self._order_by()
        if self.peek().is_punct(";"):
            self.take()
        end = self.take()
        if end.kind != "end":
            raise _unexpected(end, "the end of the query")
        return SuiteQL(**fields)

    def _select_list(self) -> tuple[Selected, ...]:
        if self.peek().is_punct("*"):
            self.take()
            self.expect_word("from")
            return ()
        items: list[Selected] = []
        while True:
            item = self._select_item(expressions=sum(1 for i in items if i.to_char or i.display))
            if self.peek().is_word("as"):
                self.take()
            if self.peek().kind == "word" and not self.peek().is_word("from"):
                item = Selected(item.column, self.take().text.lower(), item.to_char, item.display)
            items.append(item)
            if not self.peek().is_punct(","):
                break
            self.take()
        self.expect_word("from")
        return tuple(items)

    def _select_item(self, expressions: int) -> Selected:
        """A column, BUILTIN.DF(column) or TO_CHAR(column, format); expressions are named exprN."""
        if self.peek().is_word("builtin"):
            self.take()
            self.expect_punct(".")
            self.expect_word("df")
            self.expect_punct("(")
            column = self._column()
            self.expect_punct(")")
            return Selected(column, f"expr{expressions + 1}", display=True)
        if self.peek().is_word("to_char"):
            self.take()
            self.expect_punct("(")
            column = self._column()
            self.expect_punct(",")
            pattern = strftime_pattern(self._string())
            self.expect_punct(")")
            return Selected(column, f"expr{expressions + 1}", pattern)
        column = self._column()
        return Selected(column, column)

    def _column(self) -> str:
        token = self.take()
        if token.kind != "word":
            raise _unexpected(token, "a column name")
        name = token.text.lower()
        if self.peek().is_punct("."):
            self.take()
            qualifier, name = name, self.take().text.lower()
            if qualifier not in (self._alias, self._table):
                raise QueryError(f"Unknown identifier '{qualifier}'; the query reads {self._table} only.")
        if name not in self._tables[self._table].columns:
            raise QueryError(f"Field '{name}' for record '{self._table}' was not found.")
        return name

    def _string(self) -> str:
        token = self.take()
        if token.kind != "string":
            raise _unexpected(token, "a quoted text")
        return token.text[1:-1].replace("''", "'")

    def _where(self, fields: dict[str, Any]) -> None:
        conditions: list[Condition] = []
        while True:
            column = self._column()
            condition = self._condition(column)
            if not self._narrows_stream(condition, fields):
                conditions.append(condition)
            if not self.peek().is_word("and"):
                break
            self.take()
        fields["conditions"] = tuple(conditions)

    def _condition(self, column: str) -> Condition:
        token = self.take()
        if token.is_word("is"):
            negated = self.peek().is_word("not")
            if negated:
                self.take()
            self.expect_word("null")
            return Condition(column, "is not null" if negated else "is null", ())
        negated = token.is_word("not")
        if negated:
            token = self.take()
        if token.is_word("in"):
            self.expect_punct("(")
            values = [self._literal()]
            while self.peek().is_punct(","):
                self.take()
                values.append(self._literal())
            self.expect_punct(")")
            return Condition(column, "not in" if negated else "in", tuple(values))
        if negated or token.kind != "op" or token.text not in _COMPARISONS:
            raise _unexpected(token, "a comparison, IN or IS NULL")
        return Condition(column, token.text, (self._literal(),))

    def _literal(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return self._implicit(token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.is_word("to_date", "to_timestamp"):
            self.expect_punct("(")
            text = self._string()
            pattern = "%m/%d/%Y"
            if self.peek().is_punct(","):
                self.take()
                pattern = strftime_pattern(self._string())
            self.expect_punct(")")
            try:
                return datetime.strptime(text, pattern).replace(tzinfo=self._tz)
            except ValueError:
                raise QueryError(f"'{text}' does not match the date format of {token.text.upper()}.") from None
        raise _unexpected(token, "a value")

    def _implicit(self, text: str) -> Any:
        """A quoted value: a date when it reads as the account's date format, else text."""
        try:
            return datetime.strptime(text, "%m/%d/%Y").replace(tzinfo=self._tz)
        except ValueError:
            return text

    def _narrows_stream(self, condition: Condition, fields: dict[str, Any]) -> bool:
        """A bound on the streamed column becomes part of the stream; True when it did."""
        instant = condition.values[0] if condition.values else None
        if condition.column != self._tables[self._table].updated or not isinstance(instant, datetime):
            return False
        if condition.op in _LOWER_BOUND:
            low = instant + _TICK * _LOWER_BOUND[condition.op]
            since = fields.get("updated_since")
            fields["updated_since"] = max(low, since) if since else low
            return True
        if condition.op in _UPPER_BOUND:
            high = instant + _TICK * _UPPER_BOUND[condition.op]
            before = fields.get("updated_before")
            fields["updated_before"] = min(high, before) if before else high
            return True
        return False

    def _order_by(self) -> None:
        self.take()
        self.expect_word("by")
        named = []
        while True:
            named.append(self._column())
            if self.peek().is_word("desc"):
                raise QueryError("ORDER BY ... DESC is not served by the sandbox; page ascending.")
            if self.peek().is_word("asc"):
                self.take()
            if not self.peek().is_punct(","):
                break
            self.take()
        streamed = self._tables[self._table].order
        if tuple(named) != streamed[: len(named)]:
            raise QueryError(
                f"ORDER BY {', '.join(named)} is not served by the sandbox; order {self._table} by "
                f"{', '.join(streamed)} (or a leading part of it)."
            )


def _unexpected(token: Token, expected: str) -> QueryError:
    shown = token.text or "end of query"
    return QueryError(
        f"Invalid or unsupported search: found '{shown}' at position {token.column}, expected {expected}."
    )


def parse_suiteql(text: str, tables: Mapping[str, Table], tz: tzinfo) -> SuiteQL:
    """`tables` are the tables the account exposes; naive datetime literals are read in `tz`."""
    return _Parser(text, tables, tz).parse()


# -- record API filters ---------------------------------------------------------------------------------

_FILTER = re.compile(r'\s*(?P<field>\w+)\s+(?P<op>\w+)\s+"(?P<value>[^"]*)"\s*(?:(?P<and>AND)\b|$)', re.IGNORECASE)
_FILTERED_FIELD = "lastmodifieddate"


def parse_record_filter(q: str, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    """The [since, before) window of a record collection's `q` (conditions on lastModifiedDate only)."""
    since: datetime | None = None
    before: datetime | None = None
    position = 0
    while True:
        match = _FILTER.match(q, position)
        if match is None:
            raise QueryError(f"Invalid search query: cannot read '{q[position:].strip() or q}'.")
        if match["field"].lower() != _FILTERED_FIELD:
            raise QueryError(f"Invalid search query: field '{match['field']}' cannot be filtered in the sandbox; "
                             "filter on lastModifiedDate.")
        start, end = _moment(match["value"], tz)
        op = match["op"].upper()
        bounds = {
            "AFTER": (end, None), "ON_OR_AFTER": (start, None), "BEFORE": (None, start),
            "ON_OR_BEFORE": (None, end), "ON": (start, end),
        }
        if op not in bounds:
            raise QueryError(f"Invalid search query: operator {op} is not one of {', '.join(bounds)}.")
        low, high = bounds[op]
        if low is not None:
            since = max(low, since) if since else low
        if high is not None:
            before = min(high, before) if before else high
        position = match.end()
        if not match["and"]:
            return since, before


def _moment(text: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a filter value: a whole day for a date, one instant for a datetime."""
    for pattern in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        start = datetime.combine(day, time.min, tz)
        return start, start + _DAY
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"Invalid search query: '{text}' is not a date or a date and time.") from None
    instant = instant if instant.tzinfo else instant.replace(tzinfo=tz)
    return instant, instant + _TICK
