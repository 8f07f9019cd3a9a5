"""Daily FX reference rates: the ECB's published CSV format in, `silver/fx_rate` (USD per unit) out.

Rates arrive as files in the landing zone (`landing/_reference/fx/*.csv`), in the format of the ECB's
euro foreign exchange reference rates (`eurofxref-hist.csv`: a Date column, then one column per currency
quoted as units per EUR, "N/A" where there is no fixing). The sandbox writes its own rates in that format,
so production and sandbox share one loader. A document converts at the latest rate on or before its date
(the ECB fixes on business days only), never older than MAX_AGE_DAYS: no rate means quarantine, not zero.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, DecimalType, StringType, StructField, StructType

from jobs.settings import Settings
from jobs.storage import reference_files
from jobs.tables import ensure_table, first_per_key, sync

REFERENCE_DIR = "landing/_reference/fx"
#: Non-ISO spellings people and some systems key for currencies; read as the ISO code they mean.
CURRENCY_ALIASES = {"US$": "USD", "EURO": "EUR", "STG": "GBP", "C$": "CAD", "CA$": "CAD", "YEN": "JPY", "A$": "AUD", "AU$": "AUD",
                    "S$": "SGD", "NZ$": "NZD", "HK$": "HKD", "RMB": "CNY", "SFR": "CHF"}
MAX_AGE_DAYS = 7
RATE = DecimalType(20, 10)
SCHEMA = StructType([
    StructField("rate_date", DateType(), False),
    StructField("currency", StringType(), False),
    StructField("usd_per_unit", RATE, False),
    StructField("source_file", StringType(), False),
])


class FxFormatError(Exception):
    """A reference file that is not in the ECB CSV format."""


def parse_ecb_csv(text: str, source: str) -> Iterator[tuple[date, str, float]]:
    """(date, currency, USD per unit) for every fixing of an ECB-format file (EUR itself included)."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(rows, [])]
    if not header or header[0] != "Date" or "USD" not in header:
        raise FxFormatError(f"{source}: not an ECB reference-rate file (first column 'Date' and a 'USD' column expected, got {header[:4]})")
    currencies = header[1:]
    for number, row in enumerate(rows, start=2):
        if not row or not row[0].strip():
            continue
        values = dict(zip(currencies, (v.strip() for v in row[1:])))
        try:
            day = date.fromisoformat(row[0].strip())
            usd_per_eur = float(values["USD"])
        except (ValueError, KeyError) as exc:
            raise FxFormatError(f"{source} line {number}: {exc} — expected an ISO date and a USD rate") from None
        yield day, "EUR", usd_per_eur
        for currency, value in values.items():
            if currency and value and value != "N/A":
                yield day, currency, usd_per_eur / float(value)


def write_ecb_csv(rates: Iterable[tuple[date, str, float]]) -> str:
    """Rates given as USD per unit, written as the ECB quotes them (units per EUR)."""
    by_day: dict[date, dict[str, float]] = {}
    for day, currency, usd_per_unit in rates:
        by_day.setdefault(day, {})[currency] = usd_per_unit
    currencies = sorted({c for day in by_day.values() for c in day} - {"EUR"})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Date", *currencies])
    for day in sorted(by_day, reverse=True):  # the ECB lists the newest day first
        usd_per_eur = by_day[day]["EUR"]
        writer.writerow([day.isoformat(), *(f"{usd_per_eur / by_day[day][c]:.6f}" if c in by_day[day] else "N/A" for c in currencies)])
    return out.getvalue()


def uri(settings: Settings) -> str:
    return settings.table_uri("silver", "fx_rate")


def load(spark: SparkSession, settings: Settings) -> DataFrame:
    """Bring `silver/fx_rate` in line with every reference file (a later file wins for a date it repeats);
    rates that did not change are not rewritten."""
    rows = [(d, c, r, path.rsplit("/", 1)[-1]) for path, text in reference_files(settings, REFERENCE_DIR) for d, c, r in parse_ecb_csv(text, path)]
    frame = spark.createDataFrame([(d, c, str(round(r, 10)), f) for d, c, r, f in rows],
                                  "rate_date date, currency string, usd_per_unit string, source_file string")
    rates = (first_per_key(frame, ["rate_date", "currency"], F.col("source_file").desc())
             .select("rate_date", "currency", F.col("usd_per_unit").cast(RATE).alias("usd_per_unit"), "source_file"))
    sync(ensure_table(spark, uri(settings), SCHEMA), rates, ["rate_date", "currency"])
    return spark.read.format("delta").load(uri(settings))


def daily(rates: DataFrame) -> DataFrame:
    """One rate per currency and calendar day: each fixing carried forward over the days without one
    (weekends, holidays), for at most MAX_AGE_DAYS."""
    spread = rates.select(
        "currency", "usd_per_unit", "rate_date",
        F.explode(F.sequence(F.col("rate_date"), F.date_add(F.col("rate_date"), MAX_AGE_DAYS - 1))).alias("day"),
    )
    return first_per_key(spread, ["currency", "day"], F.col("rate_date").desc()).select("day", "currency", "usd_per_unit")


def iso_currency(code: Column) -> Column:
    """A currency as keyed (any case, or a common alias like "STG") → its ISO 4217 code."""
    upper = F.upper(F.trim(code))
    return F.coalesce(F.create_map(*[F.lit(x) for pair in CURRENCY_ALIASES.items() for x in pair])[upper], upper)


def with_usd_rate(documents: DataFrame, rates: DataFrame, *, on: Column, currency: str = "currency") -> DataFrame:
    """Add `fx_rate_usd`, the rate of the document's currency on day `on` (1 for USD itself); null when the
    reference has none (the caller quarantines those: a missing rate is never a zero)."""
    by_day = F.broadcast(daily(rates).withColumnRenamed("currency", "_fx_currency").withColumnRenamed("usd_per_unit", "fx_rate_usd"))
    joined = (documents.withColumn("_fx_day", on)
              .join(by_day, (F.col("_fx_day") == F.col("day")) & (F.col(currency) == F.col("_fx_currency")), "left")
              .drop("_fx_day", "day", "_fx_currency"))
    return joined.withColumn("fx_rate_usd", F.when(F.col(currency) == "USD", F.lit(1).cast(RATE)).otherwise(F.col("fx_rate_usd")))
