"""How the emulators behave: clock, faults, limits, token lifetimes, drift — one validated object.

Environment variables prefixed GROUNDSWELL_SANDBOX_ (nested with __) override the defaults, e.g.
GROUNDSWELL_SANDBOX_SECRET; a key naming a system the sandbox does not emulate fails at load.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.sandbox.config import DriftRule, FaultConfig
from connectors.sandbox.emulators.limits import LimitPolicy
from connectors.sandbox.model import API_SYSTEMS, SYSTEM_ENTITIES


class EmulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GROUNDSWELL_SANDBOX_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    secret: SecretStr = Field(
        SecretStr("groundswell-sandbox"),
        description="server secret every tenant credential is derived from (HMAC); change it to rotate them all",
    )
    clock: datetime | None = Field(
        None, description="the emulators' 'now' (records visible if updated_at <= now); default: the store's end"
    )
    faults: dict[str, FaultConfig] = Field(default_factory=dict, description="fault rates per system")
    limits: dict[str, LimitPolicy] = Field(
        default_factory=dict,
        description="per-system overrides of the real rate limits; only the fields given replace the defaults",
    )
    token_ttl_seconds: dict[str, int] = Field(
        default_factory=dict, description="access-token lifetime per system (QuickBooks default 3600)"
    )
    drift: list[DriftRule] = Field(default_factory=list, description="schema drift rules, applied on their date")
    fault_seed: int = Field(0, description="seed of the fault RNGs: the same seed fires the same faults")

    @field_validator("faults", "limits", "token_ttl_seconds")
    @classmethod
    def _known_systems(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(value) - set(API_SYSTEMS))
        if unknown:
            raise ValueError(f"unknown system(s) {unknown}: use one of {list(API_SYSTEMS)}")
        return value

    @field_validator("token_ttl_seconds")
    @classmethod
    def _positive_ttls(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {system: ttl for system, ttl in value.items() if ttl < 1}
        if bad:
            raise ValueError(f"token lifetimes must be at least 1 second, got {bad}")
        return value

    @field_validator("drift")
    @classmethod
    def _drift_rules_fit(cls, rules: list[DriftRule]) -> list[DriftRule]:
        for rule in rules:
            if rule.system not in API_SYSTEMS:
                raise ValueError(f"drift rule {rule.field!r}: system {rule.system!r} is not one of {list(API_SYSTEMS)}")
            if rule.entity not in SYSTEM_ENTITIES[rule.system]:
                raise ValueError(
                    f"drift rule {rule.system}/{rule.field}: entity {rule.entity!r} is not one {rule.system} holds; "
                    f"use the neutral entity name, one of {list(SYSTEM_ENTITIES[rule.system])}"
                )
            if rule.kind == "retype" and rule.to not in ("string", "number", "boolean"):
                raise ValueError(
                    f"drift rule {rule.system}/{rule.entity}/{rule.field}: retype to {rule.to!r}; "
                    "use 'string', 'number' or 'boolean'"
                )
        return rules
