"""Index job: publish gold's disclosed trend cells, data health and quarantine counts into Elasticsearch as a
new publication and move the aliases to it atomically (jobs/search/publish.py says how and why).

    spark-submit jobs/index_search.py [--profile P] [--warehouse URI] [--rollback]
    groundswell index [--rollback]                     (the same, in-process)

Publishing what is live already changes nothing; --rollback moves the aliases back to the publication before.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from jobs.pipeline import RunContext
from jobs.search import publish as search
from jobs.search.publish import IndexSummary
from jobs.settings import Settings
from jobs.spark import spark_session, submit_main

ROLLBACK_HELP = "move the aliases back to the publication before the live one (kept: settings.elasticsearch.keep)"


def run(spark: SparkSession, settings: Settings, systems: list[str] | None = None, *, rollback: bool = False) -> IndexSummary:
    """Publish (or roll back); `systems` is accepted for the jobs' shared command line (a publication holds every system)."""
    return search.rollback(settings) if rollback else search.publish(spark, settings)


def stage(context: RunContext) -> str:
    return search.publish(spark_session(context.settings), context.settings).line()


def main(argv: list[str] | None = None) -> IndexSummary:
    return submit_main(__doc__, "index_search.py", run, argv, flags={"rollback": ROLLBACK_HELP})


if __name__ == "__main__":
    main()
