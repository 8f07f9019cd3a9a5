"""Bronze ingest job: complete landing runs not ingested yet → one bronze Delta table per system, the
quarantine, contract-drift records and review items (jobs/bronze/ingest.py says how and why).

    spark-submit jobs/bronze_ingest.py [--profile P] [--warehouse URI] [--system S ...]
    groundswell ingest [--system S ...]            (the same, in-process)
"""

from __future__ import annotations

import argparse

from jobs.bronze.ingest import IngestSummary, ingest
from jobs.pipeline import RunContext
from jobs.settings import load_settings
from jobs.spark import spark_session


def stage(context: RunContext) -> str:
    return ingest(spark_session(context.settings), context.settings).line()


def main(argv: list[str] | None = None) -> IngestSummary:
    parser = argparse.ArgumentParser(prog="bronze_ingest.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", help="settings profile of conf/groundswell.toml (default: local)")
    parser.add_argument("--warehouse", help="warehouse root URI; overrides the profile's")
    parser.add_argument("--system", action="append", help="only this source system (repeatable)")
    args = parser.parse_args(argv)
    settings = load_settings(args.profile, warehouse=args.warehouse)
    summary = ingest(spark_session(settings), settings, args.system)
    print(summary.line())
    return summary


if __name__ == "__main__":
    main()
