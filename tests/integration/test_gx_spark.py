"""Why pyspark 4.2 (not 4.1): Great Expectations 1.24 validates Spark 4.2 DataFrames correctly."""

from __future__ import annotations

import great_expectations as gx
import pyspark


def test_given_pyspark_4_2_when_gx_validates_a_dataframe_then_passing_and_failing_rules_are_told_apart(spark):
    assert pyspark.__version__.startswith("4.2.")
    invoices = spark.createDataFrame(
        [("i1", "USD", 100.0), ("i2", "EUR", 250.5), ("i3", "usd", -3.0), ("i4", None, 10.0)],
        "invoice_id string, currency string, total double",
    )
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_spark(name="spark")
        .add_dataframe_asset(name="invoices")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": invoices})
    )
    suite = gx.ExpectationSuite(
        name="invoices",
        expectations=[
            gx.expectations.ExpectColumnValuesToBeUnique(column="invoice_id"),
            gx.expectations.ExpectColumnValuesToNotBeNull(column="currency"),
            gx.expectations.ExpectColumnValuesToBeInSet(column="currency", value_set=["USD", "EUR"]),
            gx.expectations.ExpectColumnValuesToBeBetween(column="total", min_value=0),
        ],
    )

    result = batch.validate(suite)

    outcomes = {r.expectation_config.type: (r.success, r.result.get("unexpected_count")) for r in result.results}
    assert outcomes == {
        "expect_column_values_to_be_unique": (True, 0),
        "expect_column_values_to_not_be_null": (False, 1),
        "expect_column_values_to_be_in_set": (False, 1),
        "expect_column_values_to_be_between": (False, 1),
    }
