"""Gate job: validate a layer's rows added or changed since its last gate with Great Expectations; a failed
critical rule quarantines the offending rows and stops promotion (jobs/gates/gate.py says how and why).

    spark-submit jobs/gate.py {bronze,silver,gold} [--profile P] [--warehouse URI]
    groundswell gate {bronze,silver,gold}             (the same, in-process)

Exits 1 when a critical rule failed: run nothing downstream. The layer jobs run their layer's gate at their
end (unless --no-gate); the pipeline runs it as a stage of its own.
"""

from __future__ import annotations

import argparse

from jobs.gates.gate import GateFailed, GateOutcome, gate
from jobs.gates.suites import LAYERS, Layer
from jobs.pipeline import RunContext
from jobs.settings import load_settings
from jobs.spark import spark_session


def _stage(layer: Layer):
    def stage(context: RunContext) -> str:
        outcome = gate(spark_session(context.settings), context.settings, layer)
        if not outcome.passed:
            raise GateFailed(outcome)
        return outcome.line()

    return stage


bronze, silver, gold = (_stage(layer) for layer in LAYERS)


def main(argv: list[str] | None = None) -> GateOutcome:
    parser = argparse.ArgumentParser(prog="gate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("layer", choices=LAYERS)
    parser.add_argument("--profile", help="settings profile of conf/groundswell.toml (default: local)")
    parser.add_argument("--warehouse", help="warehouse root URI; overrides the profile's")
    args = parser.parse_args(argv)
    settings = load_settings(args.profile, warehouse=args.warehouse)
    outcome = gate(spark_session(settings), settings, args.layer)
    print(outcome.line())
    if not outcome.passed:
        raise SystemExit(1)
    return outcome


if __name__ == "__main__":
    main()
