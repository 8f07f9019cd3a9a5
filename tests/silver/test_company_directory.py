"""The company directory file without Spark: what the sandbox writes reads back as the same companies, and a
row that is not a company names its line and field."""

from __future__ import annotations

from datetime import date

from pydantic import ValidationError

from jobs.silver.companies import parse_csv, write_csv
from schemas.canonical.entities import Company

ACME = Company(company_id="c00001", name="Acme, Ltd", sector="retail", region="EU", country="DE", reporting_currency="EUR",
               systems=["xero", "shopify"], onboarded_on=date(2024, 7, 1))
LEFT = Company(company_id="c00002", name="Bolt", sector="software", region="NA", country="US", reporting_currency="USD",
               systems=["quickbooks"], onboarded_on=date(2024, 9, 2), churned_on=date(2025, 3, 1))


def test_given_companies_when_written_and_read_then_they_come_back_equal():
    parsed = list(parse_csv(write_csv([LEFT, ACME])))
    assert [p[3] for p in parsed] == [ACME, LEFT]
    assert [p[0] for p in parsed] == [2, 3] and parsed[0][2] == "c00001"


def test_given_a_row_with_a_bad_country_when_read_then_the_error_names_the_field_and_the_rest_reads():
    text = write_csv([ACME, LEFT]).replace(",DE,", ",Germany,")
    (number, line, company_id, error), (_, _, _, fine) = parse_csv(text)
    assert isinstance(error, ValidationError) and error.errors()[0]["loc"] == ("country",)
    assert number == 2 and company_id == "c00001" and "Germany" in line
    assert fine == LEFT
