"""`groundswell sandbox`: generate, serve over real HTTP with a registry of references, truth and drops."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from connectors.registry import load_registry
from connectors.sandbox.emulators import EmulatorSettings, tenant_credentials
from connectors.sandbox.store import SandboxStore
from connectors.secrets import resolve_secret
from jobs.cli import app


@pytest.fixture(scope="module")
def sandbox_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sandbox")
    result = CliRunner().invoke(
        app, ["sandbox", "generate", "--out", str(out), "--companies", "40", "--start", "2026-01-05", "--end", "2026-03-01", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(sandbox_dir: Path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "sandbox", "serve", "--out", str(sandbox_dir), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/_sandbox/clock", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail(f"sandbox serve did not answer: {server.stdout.read()}")
    yield base
    server.terminate()
    server.wait(timeout=10)


def test_given_a_served_sandbox_then_every_tenant_has_a_connection_whose_secrets_are_private_files(sandbox_dir, served):
    store = SandboxStore(sandbox_dir / "sandbox.db")
    registry = load_registry(sandbox_dir / "connections.toml")
    text = (sandbox_dir / "connections.toml").read_text()

    assert {c.id for c in registry.connections} == {f"{s}/{c.company_id}" for c in store.companies() for s in c.systems}
    for connection in registry.connections:
        company = store.company(connection.company_id)
        if connection.base_url is None:
            continue
        expected = tenant_credentials(connection.system, company, EmulatorSettings())
        for name, ref in connection.credentials.items():
            path = Path(ref.removeprefix("file:"))
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert resolve_secret(ref).get_secret_value() == expected[name]
            assert expected[name] not in text  # the registry holds references, never values
        identifiers = {k: v for k, v in expected.items() if k not in connection.credentials}
        assert connection.settings == {**identifiers, "timezone": company.timezone}


def test_given_a_served_sandbox_when_a_shop_is_called_with_its_registered_token_then_its_orders_come_back(sandbox_dir, served):
    registry = load_registry(sandbox_dir / "connections.toml")
    shop = next(c for c in registry.connections if c.system == "shopify")
    token = resolve_secret(shop.credentials["access_token"]).get_secret_value()

    answer = httpx.get(
        f"{shop.base_url}/shops/{shop.settings['shop']}/admin/api/2025-07/orders.json",
        params={"status": "any", "limit": 5}, headers={"X-Shopify-Access-Token": token},
    )
    refused = httpx.get(
        f"{shop.base_url}/shops/{shop.settings['shop']}/admin/api/2025-07/orders.json",
        headers={"X-Shopify-Access-Token": "not-the-token"},
    )

    assert answer.status_code == 200 and len(answer.json()["orders"]) == 5
    assert refused.status_code == 401


def test_given_a_sandbox_when_truth_and_drops_are_exported_then_their_files_exist(sandbox_dir):
    truth = CliRunner().invoke(app, ["sandbox", "truth", "--out", str(sandbox_dir)])
    drops = CliRunner().invoke(app, ["sandbox", "drops", "--out", str(sandbox_dir)])

    assert truth.exit_code == 0, truth.output
    assert {Path(line).name for line in truth.stdout.split()} >= {"latent_index.csv.gz", "company_week.csv.gz", "records.csv.gz"}
    assert drops.exit_code == 0, drops.output
    assert any((sandbox_dir / "drops").rglob("*.csv")) or any((sandbox_dir / "drops").rglob("*.edi"))
