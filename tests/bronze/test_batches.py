"""Ingest batches: bounded by records, oldest runs first, every run in exactly one batch."""

from jobs.bronze.ingest import LandingRun, batches


def _run(name: str, records: int) -> LandingRun:
    return LandingRun(f"landing/s/t/company=c/run={name}/_manifest.json", {"records": records})


def test_given_runs_when_batched_then_each_batch_stays_under_the_limit_unless_one_run_exceeds_it():
    runs = [_run("a", 300), _run("b", 300), _run("c", 500), _run("d", 2000), _run("e", 10)]
    grouped = list(batches(runs, limit=1000))
    assert [[r.manifest.split("run=")[1][0] for r in batch] for batch in grouped] == [["a", "b"], ["c"], ["d"], ["e"]]
    assert [r for batch in grouped for r in batch] == runs
