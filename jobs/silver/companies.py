"""The company directory: each contributing company's sector, region, country and reporting currency, and
when it connected and left — what gold cuts its cells by and what says a company-week was covered.

It arrives as CSV files in the landing zone (`landing/_reference/companies/*.csv`), kept by whoever onboards
companies (the sandbox writes its own), with the header

    company_id,name,sector,region,country,reporting_currency,systems,onboarded_on,churned_on

(`systems` joined by ";", dates ISO, `churned_on` empty while connected). A later file wins for a company it
repeats. A row that does not validate against the canonical Company is quarantined naming its field; the
rest load.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, timezone

from pydantic import ValidationError
from pyspark.sql import DataFrame, SparkSession

from jobs.ops import quarantine
from jobs.settings import Settings
from jobs.storage import reference_files
from jobs.tables import ensure_table, sync
from schemas.canonical.derive import spark_schema
from schemas.canonical.entities import Company

REFERENCE_DIR = "landing/_reference/companies"
COLUMNS = ("company_id", "name", "sector", "region", "country", "reporting_currency", "systems", "onboarded_on", "churned_on")
SCHEMA = spark_schema(Company)


def uri(settings: Settings) -> str:
    return settings.table_uri("silver", "company")


def write_csv(companies: list[Company]) -> str:
    """The directory file for `companies` (how the sandbox lands its own)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for company in sorted(companies, key=lambda c: c.company_id):
        row = company.model_dump()
        writer.writerow([";".join(row["systems"]) if k == "systems" else ("" if row[k] is None else str(row[k])) for k in COLUMNS])
    return out.getvalue()


def parse_csv(text: str) -> Iterator[tuple[int, str, str | None, Company | ValidationError]]:
    """(line number, raw line, company id, the Company or why it is not one) for every data row of a directory file."""
    lines = text.lstrip("\ufeff").splitlines()
    for number, row in enumerate(csv.DictReader(lines), start=2):
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k is not None}
        values["systems"] = [s for s in (values.get("systems") or "").split(";") if s]
        values["churned_on"] = values.get("churned_on") or None
        try:
            parsed: Company | ValidationError = Company.model_validate(values)
        except ValidationError as error:
            parsed = error
        yield number, lines[number - 1], values.get("company_id") or None, parsed


def _rejection(path: str, number: int, line: str, company_id: str | None, error: ValidationError, run_id: str) -> dict:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "row"
    digest = hashlib.sha256(line.encode()).hexdigest()
    now = datetime.now(timezone.utc)
    ref = f"{REFERENCE_DIR}/{path.rsplit('/', 1)[-1]}#{number}"
    return {
        "quarantine_id": quarantine.quarantine_id("silver", "reference", "companies", company_id, ref, digest),
        "layer": "silver", "kind": "parse", "rule": f"company:{field}",
        "reason": f"{ref}: {field}: {first['msg']} (got {first.get('input')!r}); fix the directory file and load it again",
        "system": "reference", "stream": "companies", "entity": "company", "company_id": company_id, "record_key": ref,
        "contract_version": None, "payload_ref": ref, "payload_sha256": digest, "run_id": run_id, "first_seen": now, "last_seen": now,
    }


def load(spark: SparkSession, settings: Settings, run_id: str) -> DataFrame:
    """Bring `silver/company` in line with the directory files; returns the table. Rows that did not change
    are not rewritten."""
    latest: dict[str, Company] = {}
    rejected = []
    for path, text in reference_files(settings, REFERENCE_DIR):
        for number, line, company_id, parsed in parse_csv(text):
            if isinstance(parsed, Company):
                latest[parsed.company_id] = parsed
            else:
                rejected.append(_rejection(path, number, line, company_id, parsed, run_id))
    if rejected:
        quarantine.record(spark, settings, spark.createDataFrame(
            [tuple(r[c] for c in quarantine.REJECTION.fieldNames()) for r in rejected], quarantine.REJECTION))
    rows = spark.createDataFrame([c.model_dump() for c in latest.values()], SCHEMA)
    sync(ensure_table(spark, uri(settings), SCHEMA), rows, ["company_id"])
    return spark.read.format("delta").load(uri(settings))
