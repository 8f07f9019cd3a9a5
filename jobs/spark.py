"""The one place a SparkSession is built: Delta's extension and catalog, our jars, S3A, the profile's conf.

The same call works in-process (`groundswell run`, tests) and under `spark-submit`, where the master and the
jars come from the command line and the profile only adds what spark-submit did not set.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pyspark
from pyspark import SparkConf
from pyspark.sql import SparkSession

from connectors.secrets import resolve_secret
from jobs.settings import ConfigError, Settings, load_settings

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def spark_jars(settings: Settings) -> list[str]:
    """Paths of the jars `make setup` fetched; a clear error when they are missing."""
    jars = settings.spark.jars
    if not any(jar.name.startswith("delta-spark_") for jar in jars):
        raise ConfigError(
            f"Delta jars are missing from {settings.spark.jars_dir}: run `make setup` (it fetches them with Maven "
            "from conf/spark/pom.xml)"
        )
    return [str(jar) for jar in jars]


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Hadoop S3A settings for the profile's S3 endpoint (none when the profile has no S3)."""
    if settings.s3 is None:
        return {}
    s3 = settings.s3
    return {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": s3.endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": s3.region,
        "spark.hadoop.fs.s3a.access.key": resolve_secret(s3.access_key).get_secret_value(),
        "spark.hadoop.fs.s3a.secret.key": resolve_secret(s3.secret_key).get_secret_value(),
        "spark.hadoop.fs.s3a.path.style.access": str(s3.path_style).lower(),
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(s3.endpoint.startswith("https")).lower(),
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
    }


def session_conf(settings: Settings) -> dict[str, str]:
    """Every Spark setting the profile asks for, jars included."""
    return {
        "spark.app.name": settings.spark.app_name,
        "spark.jars": ",".join(spark_jars(settings)),
        **DELTA_CONF,
        **settings.spark.conf,
        **s3a_conf(settings),
    }


def spark_session(settings: Settings) -> SparkSession:
    """Get or create the session for `settings`; settings spark-submit already gave are left alone."""
    submitted = SparkConf()  # under spark-submit it holds the command line's settings
    builder = SparkSession.builder
    if not submitted.contains("spark.master"):
        builder = builder.master(settings.spark.master)
        if settings.spark.master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this venv's pyarrow
    for key, value in session_conf(settings).items():
        if not submitted.contains(key):
            builder = builder.config(key, value)
    return builder.getOrCreate()


def submit_command(settings: Settings, script: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The spark-submit command line (and environment) that runs `script` as `spark_session(settings)` would
    run in-process.

    The jars go in --jars (spark-submit puts them on the driver's classpath, which a session built later can
    no longer do); S3 keys stay out of the command line (anyone can read it) and are set by the job itself.
    """
    spark_home = Path(pyspark.__file__).parent
    conf = {k: v for k, v in session_conf(settings).items() if k != "spark.jars" and not k.endswith((".access.key", ".secret.key"))}
    command = [str(spark_home / "bin" / "spark-submit"), "--master", settings.spark.master, "--jars", ",".join(spark_jars(settings))]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    env = os.environ | {"SPARK_HOME": str(spark_home), "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    if settings.spark.master.startswith("local"):
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return [*command, str(script), *args], env


def submit_main(script_doc: str, prog: str, run, argv: list[str] | None = None, flags: dict[str, str] | None = None, gate: str | None = None):
    """The command line every spark-submit-able layer job shares: --profile, --warehouse, --system (repeatable),
    and the job's own on/off `flags` (name → help); runs `run(spark, settings, systems, **flags)` and prints
    its summary line, then the `gate` of the layer it wrote (unless --no-gate), exiting 1 if that fails."""
    parser = argparse.ArgumentParser(prog=prog, description=script_doc.split("\n\n")[0])
    parser.add_argument("--profile", help="settings profile of conf/groundswell.toml (default: local)")
    parser.add_argument("--warehouse", help="warehouse root URI; overrides the profile's")
    parser.add_argument("--system", action="append", help="only this source system (repeatable)")
    for name, help_text in (flags or {}).items():
        parser.add_argument(f"--{name}", action="store_true", help=help_text)
    if gate:
        parser.add_argument("--no-gate", action="store_true", help=f"skip the {gate} gate (Great Expectations) after the job")
    args = parser.parse_args(argv)
    settings = load_settings(args.profile, warehouse=args.warehouse)
    spark = spark_session(settings)
    summary = run(spark, settings, args.system, **{name: getattr(args, name) for name in flags or {}})
    print(summary.line())
    if gate and not args.no_gate:
        from jobs.gates.gate import gate as run_gate  # Great Expectations takes seconds to import: only when gating

        outcome = run_gate(spark, settings, gate)
        print(outcome.line())
        if not outcome.passed:
            raise SystemExit(1)
    return summary
