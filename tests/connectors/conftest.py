"""A small generated sandbox served over real HTTP (uvicorn on loopback) for the connector tests, with its
connection registry and a way to switch each system's faults on and off."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn

from connectors.registry import Registry
from connectors.sandbox.config import FaultConfig, load_config
from connectors.sandbox.emulators import build_sandbox_app
from connectors.sandbox.generate import generate
from connectors.sandbox.serve import build_registry, emulator_settings
from connectors.sandbox.store import SandboxStore


@dataclass(frozen=True)
class ServedSandbox:
    base_url: str
    folder: Path
    store: SandboxStore
    registry: Registry

    @contextmanager
    def faults(self, system: str, **rates: float) -> Iterator[None]:
        """Switch `system`'s injected faults on for the block (FaultConfig fields), off after it."""
        httpx.put(f"{self.base_url}/_sandbox/faults/{system}", json=FaultConfig(**rates).model_dump(mode="json")).raise_for_status()
        try:
            yield
        finally:
            httpx.put(f"{self.base_url}/_sandbox/faults/{system}", json=FaultConfig().model_dump(mode="json")).raise_for_status()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def served_sandbox(tmp_path_factory) -> Iterator[ServedSandbox]:
    folder = tmp_path_factory.mktemp("sandbox")
    generate(load_config(), folder, companies=40, start=date(2026, 1, 5), end=date(2026, 2, 22), progress=False)
    store = SandboxStore(folder / "sandbox.db")
    settings = emulator_settings(store)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(build_sandbox_app(store, settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.05)
    try:
        yield ServedSandbox(base_url, folder, store, build_registry(store, base_url, folder, settings))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
