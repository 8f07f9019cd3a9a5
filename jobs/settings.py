"""Typed settings: conf/groundswell.toml's defaults, overlaid by one profile, overlaid by environment.

A bad or missing setting fails here, at start, with a `ConfigError` naming the key and the fix — never later
inside a Spark job.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from connectors.secrets import SecretRef

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
SETTINGS_FILE = CONF_DIR / "groundswell.toml"
ENV_PREFIX = "GROUNDSWELL_"


class ConfigError(Exception):
    """A setting is wrong or missing; the message names the key and what to do."""


def _repo_path(value: str | Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else ROOT / path


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SparkSettings(_Section):
    master: str = "local[*]"
    app_name: str = "groundswell"
    jars_dir: Path = Path(".jars")
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("master")
    @classmethod
    def _known_master(cls, master: str) -> str:
        if not re.fullmatch(r"local(\[(\*|\d+)(,\d+)?\])?|spark://.+|yarn|k8s://.+", master):
            raise ValueError(f"{master!r} is not a Spark master URL: use local[*], spark://HOST:PORT, yarn or k8s://...")
        return master

    @property
    def jars(self) -> list[Path]:
        return sorted(_repo_path(self.jars_dir).glob("*.jar"))


class S3Settings(_Section):
    endpoint: str
    access_key: SecretRef
    secret_key: SecretRef
    region: str = "us-east-1"
    path_style: bool = True


class ElasticsearchSettings(_Section):
    """Where gold is published for search (jobs/search/)."""

    url: str = "http://127.0.0.1:9200"
    prefix: str = Field("groundswell", pattern=r"^[a-z][a-z0-9_]*$", description="aliases <prefix>-trends/-health/-quarantine")
    keep: int = Field(3, ge=2, description="publications kept (the live one and earlier ones to roll back to)")


class ServicesSettings(_Section):
    state_dir: Path = Path(".services")
    elasticsearch_port: int = Field(9200, ge=1024, le=65535)
    elasticsearch_heap: str = "512m"
    elasticsearch_user: str = "groundswell-es"
    elasticsearch_java_home: Path = Path("/usr/lib/jvm/temurin-25-jdk-amd64")
    s3_port: int = Field(9090, ge=1024, le=65535)
    s3_bucket: str = "groundswell"

    @property
    def state_path(self) -> Path:
        return _repo_path(self.state_dir)


class MasterSettings(_Section):
    """Master data linkage: pairs at or above `link_probability` are the same; pairs from
    `review_probability` up to it go to a reviewer; below, they are different."""

    link_probability: float = Field(0.95, gt=0, le=1)
    review_probability: float = Field(0.01, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> MasterSettings:
        if self.review_probability >= self.link_probability:
            raise ValueError("review_probability must be below link_probability (the uncertain band lies between them)")
        return self


class GoldSettings(_Section):
    """Panel rules and disclosure control of the published trend cells (jobs/gold/)."""

    min_history_days: int = Field(0, ge=0, description="days connected before a company's growth counts")
    outlier_cap: float = Field(8.0, gt=1, description="a company-period counts at most cap × its trailing-quarter average")
    min_contributors: int = Field(5, ge=1, description="k: companies a published cell must rest on")
    max_share: float = Field(0.5, gt=0, le=1, description="largest share one company may have of a published cell")
    constant_currency_year: int = Field(2025, ge=1999, description="constant-currency amounts use this year's average rates")


Layer = Literal["landing", "bronze", "silver", "gold", "ops"]


class Settings(BaseSettings):
    """Everything a job, the CLI or a test needs to know about where things run and live."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    profile: str = "local"
    warehouse: str = ".warehouse"
    spark: SparkSettings = SparkSettings()
    s3: S3Settings | None = None
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    services: ServicesSettings = ServicesSettings()
    master: MasterSettings = MasterSettings()
    gold: GoldSettings = GoldSettings()
    pii_key: SecretRef = "file:.services/pii.key"

    @field_validator("warehouse")
    @classmethod
    def _warehouse_uri(cls, warehouse: str) -> str:
        scheme, sep, _ = warehouse.partition("://")
        if sep and scheme != "s3a":
            raise ValueError(
                f"{warehouse!r}: the warehouse is a local folder or s3a://bucket/prefix "
                f"(Hadoop's S3A connector; write s3a:// rather than {scheme}://)"
            )
        return warehouse if sep else str(_repo_path(warehouse))

    @model_validator(mode="after")
    def _s3_when_needed(self) -> Settings:
        if self.warehouse.startswith("s3a://") and self.s3 is None:
            raise ValueError(
                f"warehouse {self.warehouse} is on S3 but profile {self.profile!r} has no [profiles.{self.profile}.s3] "
                "section: add endpoint, access_key and secret_key there or as GROUNDSWELL_S3__* variables"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() layers file, environment and arguments itself, so nested keys merge key by key.
        return (init_settings,)

    def table_uri(self, layer: Layer, name: str) -> str:
        """Where a table (or the landing zone) lives under the warehouse root."""
        return f"{self.warehouse.rstrip('/')}/{layer}/{name}"


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def profile_names(path: Path = SETTINGS_FILE) -> list[str]:
    return sorted(_read(path).get("profiles", {}))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} is missing: restore conf/groundswell.toml from git") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}): fix the line it names") from None


def load_settings(profile: str | None = None, *, warehouse: str | None = None, path: Path = SETTINGS_FILE) -> Settings:
    """Settings of `profile` (default: GROUNDSWELL_PROFILE, else "local"): the file's defaults, the profile,
    then GROUNDSWELL_* environment variables, then `warehouse` — each layer merged key by key."""
    document = _read(path)
    profile = profile or os.environ.get(f"{ENV_PREFIX}PROFILE") or "local"
    profiles = document.get("profiles", {})
    if profile not in profiles:
        raise ConfigError(
            f"profile {profile!r} is not defined in {path}: use one of {', '.join(sorted(profiles))} "
            f"or add a [profiles.{profile}] section"
        )
    values = _deep_merge(document.get("defaults", {}), profiles[profile])
    values = _deep_merge(values, EnvSettingsSource(Settings)())
    values["profile"] = profile
    if warehouse is not None:
        values["warehouse"] = warehouse
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, profile, path)) from None


def _explain(exc: ValidationError, profile: str, path: Path) -> str:
    lines = [f"invalid settings for profile {profile!r} ({path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}):"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(settings)"
        env = ENV_PREFIX + "__".join(str(part).upper() for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting: remove it or fix its spelling"
        elif error["type"] == "missing":
            message = "required: set it in the profile or as an environment variable"
        lines.append(f"  {key}: {message} [set in [profiles.{profile}] or {env}]")
    return "\n".join(lines)
