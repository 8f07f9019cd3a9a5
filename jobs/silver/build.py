"""Silver in one call: map the new bronze rows, load the company directory, then resolve master data and
reconcile the documents over the whole of silver — both read every company's rows (small beside the
mapping, and a late edit or a review decision anywhere can change them) and rewrite only what changed."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from jobs.ops import quarantine
from jobs.settings import Settings
from jobs.silver import companies
from jobs.silver.master import MasterSummary, resolve
from jobs.silver.normalize import NormalizeSummary, normalize, replay
from jobs.silver.reconcile import reconcile


@dataclass
class SilverSummary:
    normalized: NormalizeSummary
    companies: int
    masters: MasterSummary
    reconciliation_rows: int

    def line(self) -> str:
        return (f"{self.normalized.line()}; {self.companies} companies in the directory; master data: "
                f"{self.masters.line() or 'nothing to resolve'}; reconciliation: {self.reconciliation_rows} company-months")


def derive(spark: SparkSession, settings: Settings, normalized: NormalizeSummary, run_id: str) -> SilverSummary:
    directory = companies.load(spark, settings, run_id).count()
    return SilverSummary(normalized, directory, resolve(spark, settings, run_id), reconcile(spark, settings))


def build(spark: SparkSession, settings: Settings, systems: list[str] | None = None) -> SilverSummary:
    normalized = normalize(spark, settings, systems)
    return derive(spark, settings, normalized, normalized.run_id)


def replay_and_derive(spark: SparkSession, settings: Settings, selection: quarantine.Selection) -> SilverSummary:
    replayed = replay(spark, settings, selection)
    return derive(spark, settings, replayed, replayed.run_id)
