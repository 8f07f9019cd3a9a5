"""The connection registry: which company is reached through which system, where, with which credentials.

Credentials are references only ("env:VAR" or "file:PATH"); identifiers a system needs beside them (a shop
name, a realm id, a client id) are plain settings. `groundswell sandbox serve` writes one for the sandbox's
tenants; a real deployment keeps its own (e.g. conf/connections.toml) and points `--registry` at it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.secrets import SecretRef
from connectors.systems import API_SYSTEMS, FILE_SYSTEMS


class RegistryError(ValueError):
    """The registry cannot be used; the message names the connection and key."""


class RateLimitOverride(BaseModel):
    """A connection's own request budget where its account differs from its system's default (a bigger plan,
    a sandbox with tight limits): the fields given replace the default's, the others stay."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_second: float | None = Field(None, gt=0, description="requests per second on average")
    burst: int | None = Field(None, ge=1, description="requests at once after a quiet spell")
    concurrency: int | None = Field(None, ge=1, description="requests in flight at once")


class Connection(BaseModel):
    """One company's account in one source system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    company_id: str
    base_url: str | None = Field(None, description="API systems: the tenant's API root")
    drop_dir: str | None = Field(None, description="file systems: the folder (or s3a:// prefix) files are dropped in")
    entities: tuple[str, ...] = Field(description="the system's entities to extract")
    settings: dict[str, str] = Field(default_factory=dict, description="non-secret identifiers, e.g. realm_id, shop")
    credentials: dict[str, SecretRef] = Field(default_factory=dict, description="secret references by name")
    rate_limit: RateLimitOverride | None = Field(None, description="API systems: this account's budget, if not the system's")

    @property
    def id(self) -> str:
        return f"{self.system}/{self.company_id}"

    @model_validator(mode="after")
    def _reachable(self) -> Connection:
        if self.system not in API_SYSTEMS + FILE_SYSTEMS:
            raise ValueError(f"system {self.system!r} has no connector: use one of {', '.join(API_SYSTEMS + FILE_SYSTEMS)}")
        if self.system in API_SYSTEMS and not self.base_url:
            raise ValueError(f"{self.id}: base_url is required for an API system")
        if self.system in FILE_SYSTEMS and not self.drop_dir:
            raise ValueError(f"{self.id}: drop_dir is required for a file-drop system")
        if self.system in FILE_SYSTEMS and self.rate_limit is not None:
            raise ValueError(f"{self.id}: a file-drop system sends no requests: remove its rate_limit")
        return self


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    connections: tuple[Connection, ...]

    @model_validator(mode="after")
    def _unique(self) -> Registry:
        seen: set[str] = set()
        for connection in self.connections:
            if connection.id in seen:
                raise ValueError(f"connection {connection.id} is listed twice: keep one")
            seen.add(connection.id)
        return self

    def select(self, *, systems: list[str] | None = None, companies: list[str] | None = None) -> list[Connection]:
        return [
            c for c in self.connections
            if (not systems or c.system in systems) and (not companies or c.company_id in companies)
        ]


def load_registry(path: Path) -> Registry:
    try:
        document = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RegistryError(f"no connection registry at {path}: run `groundswell sandbox serve` or pass --registry") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path} is not valid TOML ({exc})") from None
    try:
        return Registry.model_validate({"connections": document.get("connection", [])})
    except ValidationError as exc:
        problems = []
        entries = document.get("connection", [])
        for error in exc.errors():
            location = error["loc"]
            where = _connection_named(entries, location[1]) if len(location) > 1 else "registry"
            key = ".".join(str(part) for part in location[2:])
            problems.append(f"{where}{'.' + key if key else ''}: {error['msg'].removeprefix('Value error, ')}")
        raise RegistryError(f"{path}: " + "; ".join(problems)) from None


def _connection_named(entries: list[object], index: int | str) -> str:
    """`connection[i]`, with its system/company when the entry has them, so a bad value is easy to find."""
    entry = entries[index] if isinstance(index, int) and index < len(entries) else None
    if isinstance(entry, dict) and {"system", "company_id"} <= entry.keys():
        return f"connection[{index}] {entry['system']}/{entry['company_id']}"
    return f"connection[{index}]"


def write_registry(registry: Registry, path: Path) -> None:
    document = {"connection": [c.model_dump(exclude_none=True, exclude_defaults=False) for c in registry.connections]}
    for entry in document["connection"]:
        entry["entities"] = list(entry["entities"])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(tomli_w.dumps(document))
