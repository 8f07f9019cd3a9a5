"""Bronze ingest job: complete landing runs not ingested yet → one bronze Delta table per system, the
quarantine, contract-drift records and review items (jobs/bronze/ingest.py says how and why).

    spark-submit jobs/bronze_ingest.py [--profile P] [--warehouse URI] [--system S ...] [--no-gate]
    groundswell ingest [--system S ...]            (the same, in-process)
"""

from __future__ import annotations

from jobs.bronze.ingest import IngestSummary, ingest
from jobs.pipeline import RunContext
from jobs.spark import spark_session, submit_main


def stage(context: RunContext) -> str:
    return ingest(spark_session(context.settings), context.settings).line()


def main(argv: list[str] | None = None) -> IngestSummary:
    return submit_main(__doc__, "bronze_ingest.py", ingest, argv, gate="bronze")


if __name__ == "__main__":
    main()
