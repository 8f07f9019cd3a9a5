"""Benchmark: silver (jobs/silver_normalize.py) over a 10M-record bronze warehouse on this machine, and side
by side on Shopify orders, the same mapping done in DuckDB SQL over the same bronze files.

    python -m tests.benchmarks.bench_silver_normalize [--bronze WAREHOUSE] [RECORDS]     (default 10,000,000)

Without --bronze the bronze warehouse is made as bench_bronze_ingest makes its landing zone (a real landed
sandbox multiplied), then ingested (untimed here). Each timed run gets its own copy of the warehouse (data
files hard-linked, Delta logs copied) and runs in its own process tree; peak memory is the tree's.

- silver_spark: every system → silver: contract parse, mapping, USD at the document date, MERGE by canonical
  id, quarantine, then master data and reconciliation.
- Shopify orders side by side: Spark (`--system shopify`: orders, customers and products, then master data
  and reconciliation of that silver) against DuckDB SQL doing the orders' mapping — latest version per id,
  the same fields and status rules, lines with tax, the USD rate as of the issue date (≤ 7 days old),
  unmappable rows split off — from the bronze Parquet files to Parquet. Spark does more (it also MERGEs,
  maps the two small streams, resolves and reconciles), so the ratio is, if anything, against Spark.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from jobs.bronze.ingest import bronze_uri
from jobs.settings import ROOT, load_settings
from jobs.silver.fx import CURRENCY_ALIASES, MAX_AGE_DAYS
from jobs.silver.normalize import SYSTEMS
from jobs.silver.shopify import FULFILLMENT_STATUS
from jobs.spark import spark_session
from jobs.tables import exists
from tests.benchmarks.__main__ import record_result
from tests.benchmarks.bench_bronze_ingest import RECORDS, landing_zone, peak_rss, sample_landing

GOAL_RATIO = 2.0


def _bronze_warehouse(folder: Path, records: int) -> Path:
    warehouse = folder / "bronze"
    sample = sample_landing(folder)
    landing_zone(sample, warehouse, records)
    shutil.rmtree(folder / "sample")
    subprocess.run([sys.executable, str(ROOT / "jobs" / "bronze_ingest.py"), "--warehouse", str(warehouse), "--no-gate"], check=True)
    return warehouse


def _copy(warehouse: Path, to: Path) -> Path:
    """A working copy: data files hard-linked (Delta never rewrites one), logs copied (checkpoints are rewritten)."""
    def link_or_copy(source: str, target: str) -> None:
        if "_delta_log" in Path(source).parts:
            shutil.copy2(source, target)
        else:
            os.link(source, target)

    shutil.copytree(warehouse, to, copy_function=link_or_copy)
    return to


def _timed(command: list[str]) -> dict[str, float]:
    started = time.monotonic()
    code, peak = peak_rss(subprocess.Popen(command))
    if code != 0:
        raise SystemExit(f"{command[1]} failed with exit code {code}")
    return {"seconds": round(time.monotonic() - started, 1), "peak_rss_mib": round(peak)}


def _spark(warehouse: Path, *systems: str) -> dict[str, float]:
    extra = [arg for system in systems for arg in ("--system", system)]
    return _timed([sys.executable, str(ROOT / "jobs" / "silver_normalize.py"), "--warehouse", str(warehouse), "--no-gate", *extra])


def _sql_map(mapping: dict[str, str], value: str) -> str:
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"CASE {value} {cases} END"


MONEY = "DECIMAL(18,4)"
LINE = ('[{"product_id": "VARCHAR", "sku": "VARCHAR", "title": "VARCHAR", "quantity": "VARCHAR", "price": "VARCHAR", '
        '"total_discount": "VARCHAR", "tax_lines": [{"price": "VARCHAR"}]}]')


def _money(value: str) -> str:
    return f"TRY_CAST(nullif(trim({value}), '') AS {MONEY})"


def duckdb_sql(bronze_files: list[str], fx_glob: str, out: Path) -> list[str]:
    """The Shopify order mapping of jobs/silver/shopify.py in DuckDB SQL, statement by statement."""
    keyed = "upper(trim(p->>'currency'))"
    currency = f"coalesce({_sql_map(CURRENCY_ALIASES, keyed)}, {keyed})"
    fulfillment = _sql_map(FULFILLMENT_STATUS, "nullif(trim(p->>'fulfillment_status'), '')")
    return [
        "SET threads = 2",
        f"""CREATE TEMP TABLE fx AS
            WITH ecb AS (SELECT * FROM read_csv('{fx_glob}', header = true, all_varchar = true, union_by_name = true)),
            per_eur AS (UNPIVOT ecb ON COLUMNS(* EXCLUDE (Date)) INTO NAME currency VALUE units)
            SELECT CAST(c.Date AS DATE) AS day, c.currency, TRY_CAST(u.units AS DOUBLE) / TRY_CAST(c.units AS DOUBLE) AS usd_per_unit
            FROM per_eur c JOIN per_eur u ON u.Date = c.Date AND u.currency = 'USD' WHERE TRY_CAST(c.units AS DOUBLE) > 0
            UNION ALL SELECT CAST(Date AS DATE), 'EUR', TRY_CAST(USD AS DOUBLE) FROM ecb""",
        f"""CREATE TEMP TABLE mapped AS
            WITH bronze AS (
                SELECT company_id, record_key, source_updated_at, payload_sha256, CAST(payload AS JSON) AS p, extract_run_id
                FROM read_parquet({bronze_files!r}) WHERE stream = 'orders'
                QUALIFY row_number() OVER (PARTITION BY company_id, record_key ORDER BY source_updated_at DESC NULLS LAST, payload_sha256 DESC) = 1),
            fields AS (
                SELECT company_id, record_key, source_updated_at, extract_run_id,
                       nullif(trim(p->>'id'), '') AS source_id, nullif(trim(p->>'name'), '') AS number,
                       nullif(trim(p->'customer'->>'id'), '') AS customer_id,
                       CASE WHEN regexp_matches(trim(p->>'created_at'), '(Z|[+-][0-9][0-9]:?[0-9][0-9])$')
                            THEN TRY_CAST(trim(p->>'created_at') AS TIMESTAMPTZ) END AS issued_at,
                       {currency} AS currency,
                       CASE WHEN nullif(trim(p->>'cancelled_at'), '') IS NOT NULL THEN 'cancelled'
                            WHEN trim(p->>'financial_status') IN ('refunded', 'voided') THEN 'void'
                            WHEN nullif(trim(p->>'fulfillment_status'), '') IS NULL THEN 'open'
                            ELSE {fulfillment} END AS status,
                       {_money("p->>'subtotal_price'")} AS subtotal, {_money("p->>'total_tax'")} AS tax_total,
                       {_money("p->>'total_price'")} AS total,
                       list_transform(from_json(p->'line_items', '{LINE}'), lambda l, i: {{
                           'line_no': i, 'product_id': l.product_id, 'sku': nullif(trim(l.sku), ''), 'description': nullif(trim(l.title), ''),
                           'quantity': {_money('l.quantity')}, 'unit_price': {_money('l.price')},
                           'amount': {_money('l.quantity')} * {_money('l.price')} - coalesce({_money('l.total_discount')}, 0),
                           'tax_amount': coalesce(list_sum(list_transform(l.tax_lines, lambda t: {_money('t.price')})), 0)}}) AS lines
                FROM bronze)
            SELECT f.*, r.usd_per_unit AS fx_rate_usd,
                   substr(sha256(concat_ws(chr(31), 'shopify', f.company_id, 'sales_order', f.source_id)), 1, 32) AS canonical_id,
                   CASE WHEN f.source_id IS NULL THEN 'missing:id' WHEN f.issued_at IS NULL THEN 'an-instant:created_at'
                        WHEN f.currency IS NULL THEN 'missing:currency' WHEN f.status IS NULL THEN 'unknown-code:fulfillment_status'
                        WHEN f.subtotal IS NULL OR f.tax_total IS NULL OR f.total IS NULL THEN 'a-number:totals'
                        WHEN list_bool_or(list_transform(f.lines, lambda l: l.quantity IS NULL OR l.quantity < 0)) THEN 'not-a-quantity:line_items[].quantity'
                        WHEN list_bool_or(list_transform(f.lines, lambda l: l.unit_price IS NULL)) THEN 'not-a-number:line_items[].price'
                        WHEN r.usd_per_unit IS NULL OR CAST(f.issued_at AS DATE) - r.day > {MAX_AGE_DAYS} THEN 'fx-rate-missing:currency' END AS problem
            FROM fields f ASOF LEFT JOIN fx r ON r.currency = f.currency AND CAST(f.issued_at AS DATE) >= r.day""",
        f"""COPY (SELECT canonical_id, company_id, 'shopify' AS source_system, source_id, source_updated_at, false AS is_deleted,
                         record_key AS bronze_record_key, extract_run_id, number,
                         CASE WHEN customer_id IS NOT NULL THEN substr(sha256(concat_ws(chr(31), 'shopify', company_id, 'customer', customer_id)), 1, 32) END AS party_id,
                         issued_at, currency, fx_rate_usd, status, subtotal, tax_total, total,
                         CAST(subtotal * fx_rate_usd AS {MONEY}) AS subtotal_usd, CAST(total * fx_rate_usd AS {MONEY}) AS total_usd,
                         list_transform(lines, lambda l: struct_insert(l, amount_usd := CAST(l.amount * fx_rate_usd AS {MONEY}))) AS lines,
                         'shop' AS channel
                  FROM mapped WHERE problem IS NULL) TO '{out / "sales_order.parquet"}' (FORMAT parquet)""",
        f"COPY (SELECT company_id, record_key, problem FROM mapped WHERE problem IS NOT NULL) TO '{out / 'quarantine.parquet'}' (FORMAT parquet)",
    ]


DUCKDB_RUN = """
import duckdb, json, sys
con = duckdb.connect()
for statement in json.load(open(sys.argv[1])):
    con.execute(statement)
"""


def _inspect(warehouse: Path) -> tuple[int, list[str], int]:
    """(bronze rows, the live files of Shopify's bronze table, its order rows), read with Spark, untimed."""
    settings = load_settings("local", warehouse=str(warehouse))
    spark = spark_session(settings)
    try:
        total = sum(spark.read.format("delta").load(bronze_uri(settings, system)).count() for system in SYSTEMS
                    if exists(spark, bronze_uri(settings, system)))
        shopify = spark.read.format("delta").load(bronze_uri(settings, "shopify"))
        return total, [f.removeprefix("file:") for f in shopify.inputFiles()], shopify.where("stream = 'orders'").count()
    finally:
        spark.stop()


def _duckdb(warehouse: Path, files: list[str], out: Path) -> tuple[dict[str, float], int]:
    out.mkdir()
    script = out / "statements.json"
    script.write_text(json.dumps(duckdb_sql(files, str(warehouse / "landing" / "_reference" / "fx" / "*.csv"), out)))
    timed = _timed([sys.executable, "-c", DUCKDB_RUN, str(script)])
    return timed, duckdb.sql(f"SELECT count(*) FROM '{out / 'sales_order.parquet'}'").fetchall()[0][0]


def main(bronze: Path | None, records: int) -> int:
    """The side-by-side first, recorded as soon as measured (a failure of the long all-systems run keeps it)."""
    with tempfile.TemporaryDirectory(prefix="bench-silver-") as name:
        folder = Path(name)
        warehouse = bronze or _bronze_warehouse(folder, records)
        total, files, orders = _inspect(warehouse)
        spark_shopify = _spark(_copy(warehouse, folder / "shopify"), "shopify")
        duckdb_shopify, produced = _duckdb(warehouse, files, folder / "duckdb")
        for side in (spark_shopify, duckdb_shopify):
            side["orders_per_second"] = round(orders / side["seconds"])
        ratio = round(spark_shopify["seconds"] / duckdb_shopify["seconds"], 2)
        result = {
            "bronze_records": total,
            "shopify_orders": {"bronze_rows": orders, "sales_orders_mapped_by_duckdb": produced, "spark": spark_shopify, "duckdb_sql": duckdb_shopify,
                               "spark_over_duckdb_seconds": ratio, "goal_ratio": GOAL_RATIO, "passed": ratio <= GOAL_RATIO},
        }
        record_result("silver_normalize", result)
        spark_all = _spark(_copy(warehouse, folder / "full"))
    spark_all["bronze_rows_per_second"] = round(total / spark_all["seconds"])
    record_result("silver_normalize", {**result, "silver_spark_all_systems": spark_all})
    return 0


def bronze_arguments(doc: str) -> argparse.Namespace:
    """The command line of the benchmarks over the 10M-record bronze warehouse."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--bronze", type=Path, help="an existing bronze warehouse to use (not changed)")
    parser.add_argument("records", nargs="?", type=int, default=RECORDS)
    return parser.parse_args()


if __name__ == "__main__":
    args = bronze_arguments(__doc__)
    sys.exit(main(args.bronze, args.records))
