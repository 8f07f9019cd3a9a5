"""Run by test_spark_submit under spark-submit: writes one Delta table through jobs.spark.spark_session."""

import sys

from jobs.settings import load_settings
from jobs.spark import spark_session

spark = spark_session(load_settings())
spark.range(7).write.format("delta").save(sys.argv[1])
print("master=" + spark.sparkContext.master)
