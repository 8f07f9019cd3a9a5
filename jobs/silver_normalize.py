"""Silver normalize job: bronze rows added since the last run → canonical entities in `silver/<entity>`,
in USD too, mapping problems quarantined; then master data resolved and documents reconciled (the modules
of jobs/silver/ say how and why: normalize, master, reconcile).

    spark-submit jobs/silver_normalize.py [--profile P] [--warehouse URI] [--system S ...] [--no-gate]
    groundswell normalize [--system S ...]            (the same, in-process)
"""

from __future__ import annotations

from jobs.pipeline import RunContext
from jobs.silver.build import SilverSummary, build
from jobs.spark import spark_session, submit_main


def stage(context: RunContext) -> str:
    return build(spark_session(context.settings), context.settings).line()


def main(argv: list[str] | None = None) -> SilverSummary:
    return submit_main(__doc__, "silver_normalize.py", build, argv, gate="silver")


if __name__ == "__main__":
    main()
