"""`groundswell services`: the local servers a laptop or CI needs — Elasticsearch and an S3 server.

`up` is idempotent and starts what is not running; `down` stops only processes we started (pid files under the
state folder); a healthy server on our port that we did not start is used but never stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from jobs.services.elasticsearch import ElasticsearchService
from jobs.services.process import ManagedProcess, ServiceError
from jobs.services.s3 import S3Service
from jobs.settings import Settings

__all__ = [
    "ElasticsearchService", "S3Service", "ServiceError", "ServiceStatus", "down", "local_services", "status", "up",
]


class LocalService(Protocol):
    name: str
    url: str
    process: ManagedProcess

    def healthy(self) -> bool: ...
    def start(self) -> None: ...
    def wait(self) -> None: ...


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    healthy: bool
    state: Literal["started", "running", "external", "stopped", "not running"]

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def local_services(settings: Settings, names: list[str] | None = None) -> list[LocalService]:
    services: list[LocalService] = [ElasticsearchService(settings), S3Service(settings)]
    unknown = set(names or []) - {s.name for s in services}
    if unknown:
        raise ServiceError(f"unknown service {', '.join(sorted(unknown))}: choose from elasticsearch, s3")
    return [s for s in services if not names or s.name in names]


def up(settings: Settings, names: list[str] | None = None) -> list[ServiceStatus]:
    """Start every service not already up — all spawned first, then awaited, so start-ups overlap."""
    services = local_services(settings, names)
    states: dict[str, str] = {}
    for service in services:
        if service.process.pid() is not None:
            states[service.name] = "running"
        elif service.healthy():
            states[service.name] = "external"
        else:
            service.start()
            states[service.name] = "started"
    for service in services:
        if states[service.name] != "external":
            service.wait()
    return [ServiceStatus(s.name, s.url, True, states[s.name]) for s in services]  # type: ignore[arg-type]


def down(settings: Settings, names: list[str] | None = None) -> list[ServiceStatus]:
    return [
        ServiceStatus(s.name, s.url, False, "stopped" if s.process.stop() else "not running")
        for s in local_services(settings, names)
    ]


def status(settings: Settings) -> list[ServiceStatus]:
    statuses = []
    for service in local_services(settings):
        ours = service.process.pid() is not None
        healthy = service.healthy()
        state = "running" if ours else "external" if healthy else "not running"
        statuses.append(ServiceStatus(service.name, service.url, healthy, state))  # type: ignore[arg-type]
    return statuses
