"""The Kibana saved objects (conf/kibana/saved_objects.ndjson) are written by hand against the index mappings:
a document field renamed or retyped in documents.py would leave a dashboard panel silently empty in Kibana.
So, without Kibana or Elasticsearch, every field a visualization uses is checked against templates.mapping(),
every reference is followed, and both dashboards are resolved to their visualizations."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from jobs.search.documents import SCHEMAS
from jobs.search.templates import mapping
from jobs.settings import ROOT, ElasticsearchSettings

SAVED_OBJECTS = ROOT / "conf" / "kibana" / "saved_objects.ndjson"
PREFIX = ElasticsearchSettings.model_fields["prefix"].default
ALIASES = {f"{PREFIX}-{kind}": kind for kind in SCHEMAS}

NUMERIC = {"long", "double", "scaled_float"}
FIELD_TYPES_BY_OPERATION = {
    "average": NUMERIC, "sum": NUMERIC, "max": NUMERIC, "min": NUMERIC, "median": NUMERIC,
    "standard_deviation": NUMERIC, "percentile": NUMERIC, "range": NUMERIC,
    "date_histogram": {"date"}, "terms": {"keyword"},
}
#: Lens' pseudo-field of count columns: no document field
RECORDS = "___records___"
LAYER_REFERENCE = "indexpattern-datasource-layer-"
DASHBOARDS = {
    "Groundswell — trends": {"Revenue index by sector", "YoY growth by region", "Contributors per cell"},
    "Groundswell — data health": {"Data health by system", "Quarantine depth by rule"},
}


def load_objects(path: Path = SAVED_OBJECTS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def of_type(objects: list[dict], saved_object_type: str) -> list[dict]:
    return [o for o in objects if o["type"] == saved_object_type]


def field_mapping(properties: dict, name: str) -> dict | None:
    """The mapping of `name`, a dotted name being a multi-field (`sector_name.keyword` → fields.keyword of sector_name)."""
    if name in properties:
        return properties[name]
    parent, _, sub_field = name.partition(".")
    return properties.get(parent, {}).get("fields", {}).get(sub_field) if sub_field else None


def query_fields(query: str) -> list[str]:
    """Field names of a KQL string's `field : value` clauses (quoted values are dropped first: a colon inside one is no field)."""
    without_values = re.sub(r':\s*"(?:[^"\\]|\\.)*"', ": _", query)
    return re.findall(r'(?:^|[\s(])"?([A-Za-z_][\w.]*)"?\s*:', without_values)


def data_view_kinds(objects: list[dict]) -> dict[str, str]:
    """data view id → document kind, by the alias the data view is titled with."""
    return {o["id"]: ALIASES[o["attributes"]["title"]] for o in of_type(objects, "index-pattern") if o["attributes"]["title"] in ALIASES}


def lens_layers(visualization: dict) -> dict[str, dict]:
    return visualization["attributes"]["state"]["datasourceStates"].get("formBased", {}).get("layers", {})


def layer_data_view(visualization: dict, layer_id: str) -> str | None:
    names = {r["name"]: r["id"] for r in visualization["references"]}
    return names.get(LAYER_REFERENCE + layer_id)


def column_problems(where: str, column: dict, properties: dict) -> list[str]:
    problems = []
    field, operation = column.get("sourceField"), column["operationType"]
    if field and field != RECORDS:
        found = field_mapping(properties, field)
        wanted = NUMERIC if operation == "last_value" and column.get("dataType") == "number" else FIELD_TYPES_BY_OPERATION.get(operation)
        if found is None:
            problems.append(f"{where}: {operation} of {field!r}, a field not in the mapping")
        elif wanted and found["type"] not in wanted:
            problems.append(f"{where}: {operation} of {field!r}, a {found['type']} field (wants {sorted(wanted)})")
    sort_field = column.get("params", {}).get("sortField")
    if sort_field and (field_mapping(properties, sort_field) or {}).get("type") != "date":
        problems.append(f"{where}: {operation} sorted by {sort_field!r}, not a date field of the mapping")
    problems += query_problems(where, column.get("filter", {}).get("query", ""), properties)
    return problems


def query_problems(where: str, query: str, properties: dict) -> list[str]:
    return [f"{where}: query names {field!r}, a field not in the mapping" for field in query_fields(query)
            if field_mapping(properties, field) is None]


def field_problems(objects: list[dict]) -> list[str]:
    """What every Lens visualization uses that its data view's mapping lacks or types otherwise; empty when all is well."""
    kinds, problems = data_view_kinds(objects), []
    for visualization in of_type(objects, "lens"):
        state, title = visualization["attributes"]["state"], visualization["attributes"]["title"]
        if not lens_layers(visualization):
            problems.append(f"{title}: no formBased layer")
        for layer_id, layer in lens_layers(visualization).items():
            data_view = layer_data_view(visualization, layer_id)
            if data_view not in kinds:
                problems.append(f"{title}: layer {layer_id} references no data view of an alias ({data_view!r})")
                continue
            properties = mapping(kinds[data_view])["properties"]
            problems += query_problems(title, state["query"]["query"], properties)
            for column_id, column in layer["columns"].items():
                problems += column_problems(f"{title} [{column_id}]", column, properties)
    return problems


def panels(dashboard: dict) -> list[dict]:
    return json.loads(dashboard["attributes"]["panelsJSON"])


def panel_reference(dashboard: dict, panel: dict) -> dict | None:
    """The reference a panel's panelRefName names: `<panelIndex>:panel_<n>` as Kibana 8+ exports it, or bare `panel_<n>`."""
    names = {f"{panel['panelIndex']}:{panel['panelRefName']}", panel["panelRefName"]}
    return next((r for r in dashboard["references"] if r["name"] in names), None)


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    return load_objects()


def test_given_the_saved_objects_file_when_parsed_then_every_line_is_a_saved_object_with_a_unique_id(objects):
    assert objects
    for o in objects:
        assert {"type", "id", "attributes", "references", "coreMigrationVersion", "typeMigrationVersion"} <= o.keys(), o.get("id")
    ids = [(o["type"], o["id"]) for o in objects]
    assert len(ids) == len(set(ids))
    assert len({o["id"] for o in objects}) == len(objects)


def test_given_the_saved_objects_when_their_references_are_followed_then_each_points_at_an_object_in_the_file(objects):
    present = {(o["type"], o["id"]) for o in objects}
    dangling = [(o["id"], r["name"], r["type"], r["id"]) for o in objects for r in o["references"] if (r["type"], r["id"]) not in present]
    assert dangling == []


def test_given_the_data_views_when_matched_to_the_aliases_then_each_is_an_alias_timed_by_a_date_field_of_its_mapping(objects):
    data_views = of_type(objects, "index-pattern")
    assert sorted(v["attributes"]["title"] for v in data_views) == sorted(ALIASES)
    for view in data_views:
        kind, time_field = ALIASES[view["attributes"]["title"]], view["attributes"]["timeFieldName"]
        assert (field_mapping(mapping(kind)["properties"], time_field) or {}).get("type") == "date", (kind, time_field)


def test_given_the_visualizations_when_their_fields_are_checked_against_the_mappings_then_none_is_missing_or_mistyped(objects):
    assert of_type(objects, "lens")
    assert field_problems(objects) == []


def test_given_the_dashboards_when_their_panels_are_resolved_then_each_is_one_of_its_visualizations_in_the_file(objects):
    visualizations = {o["id"]: o["attributes"]["title"] for o in of_type(objects, "lens")}
    dashboards = {d["attributes"]["title"]: d for d in of_type(objects, "dashboard")}
    assert dashboards.keys() == DASHBOARDS.keys()
    for title, dashboard in dashboards.items():
        references = [panel_reference(dashboard, panel) for panel in panels(dashboard)]
        assert None not in references, title
        assert all(r["type"] == "lens" and r["id"] in visualizations for r in references), title
        assert {visualizations[r["id"]] for r in references} == DASHBOARDS[title]


def _first_column(objects: list[dict], title: str, operation: str) -> dict:
    visualization = next(o for o in of_type(objects, "lens") if o["attributes"]["title"] == title)
    columns = (c for layer in lens_layers(visualization).values() for c in layer["columns"].values())
    return next(c for c in columns if c["operationType"] == operation)


@pytest.mark.parametrize(("title", "operation", "field", "complaint"), [
    ("Revenue index by sector", "average", "revenue_index", "'revenue_index', a field not in the mapping"),
    ("YoY growth by region", "terms", "region_name", "'region_name', a text field"),
])
def test_given_a_visualization_whose_field_was_changed_when_checked_then_the_field_is_reported_by_name(
        objects, title, operation, field, complaint):
    mutated = copy.deepcopy(objects)
    _first_column(mutated, title, operation)["sourceField"] = field
    problems = field_problems(mutated)
    assert len(problems) == 1 and complaint in problems[0], problems
