"""Settings: profiles layered with environment overrides; every mistake named with its fix."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from connectors.secrets import SecretError, resolve_secret
from jobs.cli import app
from jobs.settings import ENV_PREFIX, ROOT, ConfigError, load_settings


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch):
    """Each test states its own overrides (the session's test servers set some)."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)


def test_given_no_profile_when_loaded_then_local_defaults_apply():
    settings = load_settings()

    assert settings.profile == "local"
    assert settings.warehouse == str(ROOT / ".warehouse")
    assert settings.spark.master == "local[*]"
    assert settings.spark.conf["spark.sql.shuffle.partitions"] == "4"
    assert settings.s3 is None


def test_given_a_nested_env_override_when_loaded_then_it_wins_and_sibling_keys_survive(monkeypatch):
    monkeypatch.setenv("GROUNDSWELL_SPARK__MASTER", "spark://10.1.2.3:7077")

    settings = load_settings("s3")

    assert settings.spark.master == "spark://10.1.2.3:7077"
    assert settings.spark.conf["spark.databricks.delta.snapshotPartitions"] == "2"
    assert settings.warehouse == "s3a://groundswell/warehouse"


def test_given_a_warehouse_argument_when_loaded_then_it_wins_over_the_profile(tmp_path):
    assert load_settings("s3", warehouse=str(tmp_path)).warehouse == str(tmp_path)


def test_given_a_misspelt_setting_when_loaded_then_the_error_names_the_key_and_the_fix(monkeypatch):
    monkeypatch.setenv("GROUNDSWELL_SPARK__MASTR", "local[2]")

    with pytest.raises(ConfigError, match=r"spark\.mastr: unknown setting: remove it or fix its spelling"):
        load_settings()


def test_given_a_bad_master_when_loaded_then_the_error_says_which_urls_work(monkeypatch):
    monkeypatch.setenv("GROUNDSWELL_SPARK__MASTER", "localhost")

    with pytest.raises(ConfigError, match=r"spark\.master: 'localhost' is not a Spark master URL.*GROUNDSWELL_SPARK__MASTER"):
        load_settings()


def test_given_an_s3_warehouse_without_s3_settings_when_loaded_then_the_missing_section_is_named():
    with pytest.raises(ConfigError, match=r"no \[profiles\.local\.s3\] section"):
        load_settings("local", warehouse="s3a://bucket/warehouse")


def test_given_a_gs_warehouse_when_loaded_then_the_error_asks_for_s3a():
    with pytest.raises(ConfigError, match="write s3a:// rather than gs://"):
        load_settings(warehouse="gs://bucket/warehouse")


def test_given_an_unknown_profile_when_loaded_then_the_known_ones_are_listed():
    with pytest.raises(ConfigError, match="use one of cluster, local, s3"):
        load_settings("production")


def test_given_a_secret_reference_when_resolved_then_env_and_file_work_and_missing_ones_say_where(monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_SECRET", "s3cr3t")
    (tmp_path / "key").write_text("from-file\n")

    assert resolve_secret("env:TEST_SECRET").get_secret_value() == "s3cr3t"
    assert resolve_secret(f"file:{tmp_path}/key").get_secret_value() == "from-file"
    with pytest.raises(SecretError, match="environment variable NOT_SET_ANYWHERE is not set"):
        resolve_secret("env:NOT_SET_ANYWHERE")


def test_given_a_literal_secret_in_settings_when_loaded_then_it_is_refused_as_not_a_reference(monkeypatch):
    monkeypatch.setenv("GROUNDSWELL_S3__ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE")

    with pytest.raises(ConfigError, match=r"s3\.access_key: is not a secret reference"):
        load_settings("s3")


def test_given_a_bad_profile_setting_when_the_cli_runs_then_it_exits_2_naming_the_key(monkeypatch):
    monkeypatch.setenv("GROUNDSWELL_SERVICES__S3_PORT", "80")

    result = CliRunner().invoke(app, ["settings"])

    assert result.exit_code == 2
    assert "services.s3_port: Input should be greater than or equal to 1024" in result.stderr
    assert "GROUNDSWELL_SERVICES__S3_PORT" in result.stderr


def test_given_the_s3_profile_when_settings_are_printed_then_secrets_show_as_references_only():
    result = CliRunner().invoke(app, ["settings", "--profile", "s3"])

    assert result.exit_code == 0, result.output
    assert '"access_key": "file:.services/s3/access_key"' in result.stdout
