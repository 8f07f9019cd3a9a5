"""A gate rule, defined once: the Great Expectations expectation that validates it and the Spark condition that
picks its offending rows come from the same fields, so they cannot disagree.

A rule checks one column of a table's new rows, or a column `derive`d from them by a Spark SQL expression
(e.g. the gap between an invoice's total and its lines plus tax). Row rules (not_null, in_set, matches,
between, unique) name offending rows; a table rule (newest_at_least: the newest value is recent enough)
judges the batch as a whole and is a warning by nature.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import great_expectations as gx
from babel.numbers import list_currencies
from pydantic import BaseModel, ConfigDict, model_validator
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

Severity = Literal["critical", "warning"]
ISO_4217 = "ISO 4217"
"""`in_set = "ISO 4217"` stands for every ISO 4217 currency code (Unicode CLDR's list, through Babel)."""


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    severity: Severity
    why: str
    tables: list[str] | None = None  # of the layer's tables, the ones it checks (None = all)
    column: str | None = None
    derive: str | None = None  # Spark SQL over the row; the rule then checks this value (named after the rule)
    not_null: bool = False
    in_set: list[Any] | str | None = None
    matches: str | None = None
    between: tuple[float | None, float | None] | None = None  # ±inf = unbounded
    unique: list[str] | None = None
    newest_at_least_hours: float | None = None  # the column's newest value is at most this many hours old

    @model_validator(mode="after")
    def _one_check(self) -> Rule:
        checks = [self.not_null, self.in_set is not None, self.matches is not None, self.between is not None,
                  self.unique is not None, self.newest_at_least_hours is not None]
        if sum(checks) != 1:
            raise ValueError(f"rule {self.name}: give exactly one of not_null, in_set, matches, between, unique, newest_at_least_hours")
        if self.unique is None and (self.column is None) == (self.derive is None):
            raise ValueError(f"rule {self.name}: give `column` or `derive` (not both)")
        if self.newest_at_least_hours is not None and self.severity == "critical":
            raise ValueError(f"rule {self.name}: a rule on the batch as a whole names no offending rows, so it can only be a warning")
        if isinstance(self.in_set, str) and self.in_set != ISO_4217:
            raise ValueError(f"rule {self.name}: in_set is a list of values or {ISO_4217!r}")
        if self.between is not None:
            object.__setattr__(self, "between", tuple(None if bound is not None and math.isinf(bound) else bound for bound in self.between))
        return self

    def applies_to(self, table: str) -> bool:
        return self.tables is None or table in self.tables

    @property
    def checked(self) -> str:
        """The column the expectation reads: the source column, or the derived one."""
        return self.column or f"_{self.name}"

    @property
    def columns(self) -> list[str]:
        return self.unique or [self.checked]

    def values(self) -> list[Any]:
        return sorted(list_currencies()) if self.in_set == ISO_4217 else list(self.in_set or [])

    def expectation(self) -> gx.expectations.Expectation:
        meta = {"rule": self.name, "severity": self.severity, "why": self.why}
        column = self.checked
        if self.not_null:
            return gx.expectations.ExpectColumnValuesToNotBeNull(column=column, meta=meta)
        if self.in_set is not None:
            return gx.expectations.ExpectColumnValuesToBeInSet(column=column, value_set=self.values(), meta=meta)
        if self.matches is not None:
            return gx.expectations.ExpectColumnValuesToMatchRegex(column=column, regex=self.matches, meta=meta)
        if self.between is not None:
            low, high = self.between
            return gx.expectations.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, meta=meta)
        if self.unique is not None:
            if len(self.unique) == 1:
                return gx.expectations.ExpectColumnValuesToBeUnique(column=self.unique[0], meta=meta)
            return gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=self.unique, meta=meta)
        oldest = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=self.newest_at_least_hours)
        return gx.expectations.ExpectColumnMaxToBeBetween(column=column, min_value=oldest, meta=meta)

    def derived(self) -> Column | None:
        return None if self.derive is None else F.expr(self.derive).alias(self.checked)

    def offending(self, rows: DataFrame) -> DataFrame:
        """The rows that break a row rule (as GX counts them: a null breaks only not_null)."""
        value = F.col(self.checked)
        if self.unique is not None:
            repeated = F.count(F.lit(1)).over(Window.partitionBy(*self.unique)) > 1
            return rows.withColumn("_repeated", repeated).where("_repeated").drop("_repeated")
        if self.not_null:
            return rows.where(value.isNull())
        if self.in_set is not None:
            return rows.where(value.isNotNull() & ~value.isin(self.values()))
        if self.matches is not None:
            return rows.where(value.isNotNull() & ~value.rlike(self.matches))
        if self.between is not None:
            low, high = self.between
            outside = F.lit(False)
            if low is not None:
                outside = outside | (value < low)
            if high is not None:
                outside = outside | (value > high)
            return rows.where(value.isNotNull() & outside)
        raise ValueError(f"rule {self.name} judges the batch as a whole: it names no offending rows")
