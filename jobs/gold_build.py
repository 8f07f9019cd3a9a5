"""Gold build job: silver → company-period facts (private) and the published trend cells by sector × region ×
week and month, on the constant panel, under disclosure control, with a vintage per change (the modules of
jobs/gold/ say how and why: facts, panel, disclosure, build).

    spark-submit jobs/gold_build.py [--profile P] [--warehouse URI] [--full] [--no-gate]
    groundswell build-gold [--full]                   (the same, in-process)

A run recomputes the periods from the earliest day silver changed since the last run; --full recomputes
every period (after a change of method).
"""

from __future__ import annotations

from jobs.gold.build import FULL_HELP, GoldSummary, build
from jobs.pipeline import RunContext
from jobs.spark import spark_session, submit_main


def stage(context: RunContext) -> str:
    return build(spark_session(context.settings), context.settings).line()


def main(argv: list[str] | None = None) -> GoldSummary:
    return submit_main(__doc__, "gold_build.py", build, argv, flags={"full": FULL_HELP}, gate="gold")


if __name__ == "__main__":
    main()
