"""Silver normalize job: bronze rows added since the last run → canonical entities in `silver/<entity>`,
in USD too, mapping problems quarantined (jobs/silver/normalize.py says how and why).

    spark-submit jobs/silver_normalize.py [--profile P] [--warehouse URI] [--system S ...]
    groundswell normalize [--system S ...]            (the same, in-process)
"""

from __future__ import annotations

from jobs.pipeline import RunContext
from jobs.silver.normalize import NormalizeSummary, normalize
from jobs.spark import spark_session, submit_main


def stage(context: RunContext) -> str:
    return normalize(spark_session(context.settings), context.settings).line()


def main(argv: list[str] | None = None) -> NormalizeSummary:
    return submit_main(__doc__, "silver_normalize.py", normalize, argv)


if __name__ == "__main__":
    main()
