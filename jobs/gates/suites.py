"""The gates' suites: one per table of a layer, each the rules generated from what the table's rows must be
(silver: the canonical model's enums and patterns, and unique canonical ids; gold: disclosure control and
finite values) plus the hand-chosen rules of conf/gates.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Literal

from connectors.systems import API_SYSTEMS, FILE_SYSTEMS
from jobs.bronze.ingest import CONTENT_KEY, bronze_uri
from jobs.gates.rules import Rule
from jobs.gold.build import trend_uri
from jobs.gold.disclosure import VALUES
from jobs.gold.facts import GRAINS
from jobs.gold.panel import CELL
from jobs.settings import ROOT, Settings
from jobs.silver.normalize import silver_uri
from schemas.canonical.derive import column_facts
from schemas.canonical.entities import ENTITIES

Layer = Literal["bronze", "silver", "gold"]
LAYERS: tuple[Layer, ...] = ("bronze", "silver", "gold")
GATES_CONF = ROOT / "conf" / "gates.toml"

#: what a quarantined row of each layer needs to say where it came from, besides its key
LINEAGE: dict[Layer, tuple[str, ...]] = {
    "bronze": ("system", "entity", "contract_version", "landing_file", "landing_line"),
    "silver": ("company_id", "bronze_record_key", "source_updated_at"),
    "gold": (),
}


@dataclass(frozen=True)
class TableSuite:
    layer: Layer
    table: str  # e.g. "silver/invoice": the suite's name in results and Data Docs
    uri: str
    key: tuple[str, ...]  # one row of the table
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return self.table.partition("/")[2]

    def columns(self) -> list[str]:
        """The columns validation reads: the key, lineage for rejections, and those the rules check."""
        checked = [c for rule in self.rules if rule.derive is None for c in rule.columns]
        return list(dict.fromkeys([*self.key, *LINEAGE[self.layer], *checked]))


def hand_rules(layer: Layer) -> list[Rule]:
    with GATES_CONF.open("rb") as conf:
        return [Rule(**rule) for rule in tomllib.load(conf).get(layer, [])]


def model_rules(entity: str) -> list[Rule]:
    """What the canonical model says that the table's types do not enforce: enums in their set, patterns
    matched, one row per canonical id. (Required fields need no rule: their columns are NOT NULL in Delta.)"""
    rules = [Rule(name="canonical_id_unique", severity="critical", unique=["canonical_id"],
                  why="silver holds one row per canonical id (the MERGE key); a repeat would be counted twice")]
    for facts in column_facts(ENTITIES[entity]):
        if facts.choices:
            rules.append(Rule(name=f"{facts.name}_known", severity="critical", column=facts.name, in_set=list(facts.choices),
                              why=f"{entity}.{facts.name} is one of the canonical model's values"))
        if facts.pattern:
            rules.append(Rule(name=f"{facts.name}_format", severity="critical", column=facts.name, matches=facts.pattern,
                              why=f"the canonical model requires {entity}.{facts.name} to match {facts.pattern}"))
    return rules


def disclosure_rules(settings: Settings) -> list[Rule]:
    """Gold's second line of defence behind disclosure control, with the same k as the build."""
    k = settings.gold.min_contributors
    return [
        Rule(name="published_over_k", severity="critical", derive="CASE WHEN suppressed IS NULL THEN contributors END", between=(k, None),
             why=f"disclosure control: a published cell rests on at least {k} companies (gold.min_contributors)"),
        Rule(name="values_finite", severity="critical", in_set=[False],
             derive=f"exists(array({', '.join(VALUES)}), v -> isnan(v) OR abs(v) = double('infinity'))",
             why="an infinite or NaN value comes from a zero base: it is never published"),
    ]


def suites(settings: Settings, layer: Layer) -> list[TableSuite]:
    hand = hand_rules(layer)

    def rules(table: str, generated: list[Rule] = ()) -> tuple[Rule, ...]:
        return (*generated, *(rule for rule in hand if rule.applies_to(table)))

    if layer == "bronze":
        return [TableSuite(layer, f"bronze/{system}", bronze_uri(settings, system), CONTENT_KEY, rules(system))
                for system in (*API_SYSTEMS, *FILE_SYSTEMS)]
    if layer == "silver":
        return [TableSuite(layer, f"silver/{entity}", silver_uri(settings, entity), ("source_system", "canonical_id"), rules(entity, model_rules(entity)))
                for entity in ENTITIES if entity != "company"]
    return [TableSuite(layer, f"gold/{name}", trend_uri(settings, grain), (*CELL, "vintage"), rules(name, disclosure_rules(settings)))
            for grain in GRAINS for name in [f"trend_sector_region_{grain}"]]
