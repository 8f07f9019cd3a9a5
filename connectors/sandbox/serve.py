"""Serving a generated sandbox: one HTTP server for every emulated system, and the connection registry
that points our connectors at its tenants.

Tenant credentials are derived from the emulators' secret; the registry holds only references to them:
each secret goes to its own owner-only file under `<sandbox>/secrets/` (a rotating refresh token must be
writable, so the connector can persist the new one before using it).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn

from connectors.registry import Connection, Registry
from connectors.sandbox.config import SandboxConfig, parse_config
from connectors.sandbox.emulators import EmulatorSettings, build_sandbox_app, tenant_credentials
from connectors.sandbox.model import SYSTEM_ENTITIES
from connectors.sandbox.store import SandboxStore
from connectors.secrets import write_secret_file
from connectors.systems import FILE_SYSTEMS

#: Credential fields that identify a tenant rather than prove who is asking: kept as plain settings.
IDENTIFIERS = frozenset({"shop", "realm_id", "account_id", "tenant_id", "environment", "company_id", "client_id", "db", "login"})


def stored_config(store: SandboxStore) -> SandboxConfig:
    raw = store.meta("config")
    if raw is None:
        raise ValueError(f"{store.path} was not written by `groundswell sandbox generate`: generate it again")
    return parse_config(json.loads(raw), source=f"{store.path} (meta config)")


def emulator_settings(store: SandboxStore, *, clock: datetime | None = None) -> EmulatorSettings:
    """The emulators' behaviour for this sandbox: its drift and faults, its end as the default clock."""
    config = stored_config(store)
    return EmulatorSettings(drift=config.drift, faults=config.faults, clock=clock)


def build_registry(store: SandboxStore, base_url: str, sandbox_dir: Path, settings: EmulatorSettings) -> Registry:
    """A connection per tenant and system: API systems at `<base_url>/<system>`, file drops in
    `<sandbox_dir>/drops/<system>`; secrets written to owner-only files and referenced. An API connection's
    settings also carry the company's IANA `timezone`, which some APIs speak local times in (NetSuite SuiteQL)."""
    connections = []
    for company in store.companies():
        for system in company.systems:
            entities = SYSTEM_ENTITIES[system]
            if system in FILE_SYSTEMS:
                connections.append(Connection(
                    system=system, company_id=company.company_id, entities=entities,
                    drop_dir=str(sandbox_dir / "drops" / system / company.company_id),
                ))
                continue
            identifiers, secrets = {"timezone": company.timezone}, {}
            for name, value in tenant_credentials(system, company, settings).items():
                if name in IDENTIFIERS:
                    identifiers[name] = value
                else:
                    path = sandbox_dir / "secrets" / system / company.company_id / name
                    write_secret_file(path, value)
                    secrets[name] = f"file:{path}"
            connections.append(Connection(
                system=system, company_id=company.company_id, entities=entities,
                base_url=f"{base_url.rstrip('/')}/{system}", settings=identifiers, credentials=secrets,
            ))
    return Registry(connections=tuple(connections))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn_server(folder: Path, *, port: int | None = None, detached: bool = False) -> tuple[subprocess.Popen, str]:
    """Start serving the sandbox in `folder` from its own process and wait until it answers; (process, base URL).
    A detached server has a session of its own: it outlives the process that started it (an Airflow setup task)
    until it is sent SIGTERM."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "connectors.sandbox.serve", str(folder), str(port)], start_new_session=detached)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/_sandbox/clock", timeout=1).status_code == 200:
                return server, base_url
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.terminate()
            raise RuntimeError(f"the sandbox server for {folder} did not start on port {port}")
        time.sleep(0.2)


@contextmanager
def serving_process(folder: Path, *, port: int | None = None) -> Iterator[str]:
    """Serve the sandbox in `folder` from its own process (its own core: a long extraction keeps both busy)
    for the block; yields its base URL."""
    server, base_url = spawn_server(folder, port=port)
    try:
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def serving(store: SandboxStore, settings: EmulatorSettings, *, port: int | None = None) -> Iterator[str]:
    """Serve the sandbox from a background thread on 127.0.0.1 for the block; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(build_sandbox_app(store, settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="sandbox-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the sandbox server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":  # serving_process's server: python -m connectors.sandbox.serve FOLDER PORT
    sandbox = SandboxStore(Path(sys.argv[1]) / "sandbox.db")
    uvicorn.run(build_sandbox_app(sandbox, emulator_settings(sandbox)), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
