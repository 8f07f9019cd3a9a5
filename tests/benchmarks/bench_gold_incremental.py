"""Benchmark: gold's daily run (jobs/gold_build.py) on day 60 and on day 700 of a company panel's history.

    python -m tests.benchmarks.bench_gold_incremental [--warehouse WAREHOUSE]

A daily run should cost what the day brought, not what the years before it hold: the goal is day 700 at most
1.3 × day 60. Without --warehouse, the default sandbox (200 companies, two years) is run through normalize
first (untimed). Day N is the first Sunday N or more days after the first onboarding: its run completes a
week, so it publishes (new week cells, a vintage, data health) — the dearest daily run. For each day D the
benchmark makes the warehouse as it stood on the morning of D — a copy (data files hard-linked) whose
silver documents dated D or later are deleted and whose extraction cursors stand at D — and builds gold on
it (untimed). Then day D arrives: the source's documents dated D go back into silver, the cursors move to
D + 1, and the gold build is timed in its own process. Beside them, a full rebuild (`--full`) of day 700's
warehouse shows what the daily run saves.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from connectors.state import CursorStore
from jobs.settings import ROOT, load_settings
from jobs.silver import companies
from jobs.silver.normalize import silver_uri
from jobs.spark import spark_session
from jobs.storage import warehouse_filesystem
from tests.benchmarks.__main__ import record_result
from tests.benchmarks.bench_silver_normalize import _copy, _timed

DAYS = (60, 700)
GOAL_RATIO = 1.3
#: the business date of each dated silver entity (gold reads these; the others are not dated by day)
DATED = {"invoice": "issued_on", "credit_note": "issued_on", "purchase_order": "issued_on", "sales_order": "issued_on",
         "payment": "paid_at"}


def _source_warehouse(folder: Path) -> Path:
    warehouse = folder / "source"
    subprocess.run([str(ROOT / ".venv" / "bin" / "groundswell"), "run", "--warehouse", str(warehouse), "--sandbox", str(folder / "sandbox"),
                    "--to", "normalize"], check=True)
    return warehouse


def _on_day(column: str, day: date):
    start = datetime.combine(day, time(), timezone.utc)
    return (F.col(column) >= F.lit(start)) & (F.col(column) < F.lit(start + timedelta(days=1))) if column == "paid_at" \
        else F.col(column) == F.lit(day)


def _set_cursors(source: Path, target: Path, day: date) -> None:
    """`target`'s streams extracted up to the start of `day`, never later than `source`'s really were."""
    cursors = CursorStore(*warehouse_filesystem(load_settings("local", warehouse=str(source)))).all()
    store = CursorStore(*warehouse_filesystem(load_settings("local", warehouse=str(target))))
    morning = datetime.combine(day, time(), timezone.utc)
    for (system, company, stream), cursor in cursors.items():
        store.advance(system, company, stream, min(cursor, morning), run_id="bench", manifest="bench")


def _gold(warehouse: Path, *options: str) -> dict[str, float]:
    return _timed([sys.executable, str(ROOT / "jobs" / "gold_build.py"), "--warehouse", str(warehouse), "--no-gate", *options])


def morning_of(spark: SparkSession, source: Path, day: date, target: Path) -> Path:
    """`source` as it stood on the morning of `day`, gold built."""
    _copy(source, target)
    shutil.rmtree(target / "gold", ignore_errors=True)
    for entity, column in DATED.items():
        uri = silver_uri(load_settings("local", warehouse=str(target)), entity)
        spark.sql(f"DELETE FROM delta.`{uri}` WHERE {column} >= DATE'{day.isoformat()}'")
    _set_cursors(source, target, day)
    _gold(target)
    return target


def day_arrives(spark: SparkSession, source: Path, day: date, target: Path) -> int:
    """Day `day`'s documents from `source` into `target`'s silver, cursors to the next morning; documents added."""
    added = 0
    for entity, column in DATED.items():
        rows = spark.read.format("delta").load(silver_uri(load_settings("local", warehouse=str(source)), entity)).where(_on_day(column, day))
        added += rows.count()
        rows.write.format("delta").mode("append").save(silver_uri(load_settings("local", warehouse=str(target)), entity))
    _set_cursors(source, target, day + timedelta(days=1))
    return added


def main(warehouse: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-gold-") as name:
        folder = Path(name)
        source = warehouse or _source_warehouse(folder)
        settings = load_settings("local", warehouse=str(source))
        spark = spark_session(settings)
        first = spark.read.format("delta").load(companies.uri(settings)).agg(F.min("onboarded_on")).first()[0]
        runs = {}
        for days in DAYS:
            day = first + timedelta(days=days + (6 - (first + timedelta(days=days)).weekday()))
            target = morning_of(spark, source, day, folder / f"day{days}")
            documents = day_arrives(spark, source, day, target)
            runs[f"day_{days}"] = {"date": day.isoformat(), "documents_added": documents, "gold_build": _gold(target)}
            print(runs, flush=True)
        spark.stop()
        full = _gold(target, "--full")
    ratio = round(runs[f"day_{DAYS[1]}"]["gold_build"]["seconds"] / runs[f"day_{DAYS[0]}"]["gold_build"]["seconds"], 2)
    record_result("gold_incremental", {**runs, f"day_{DAYS[1]}_full_rebuild": full, f"day_{DAYS[1]}_over_day_{DAYS[0]}": ratio,
                                       "goal_ratio": GOAL_RATIO, "passed": ratio <= GOAL_RATIO})
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, help="an existing warehouse with silver built (not changed)")
    sys.exit(main(parser.parse_args().warehouse))
