"""Business Central connector: against the served sandbox (whole reads, faults, windows) and the real API's
samples."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from connectors.base import Window
from connectors.businesscentral import BusinessCentralConnector
from connectors.businesscentral.streams import STREAMS
from connectors.http.auth import AuthError
from connectors.registry import Connection
from connectors.sandbox.emulators.runtime import store_end
from connectors.sandbox.model import Record
from connectors.secrets import resolve_secret
from tests.connectors.conftest import read_keys, read_tenants

FIXTURES = Path("/work/shared/fixtures/businesscentral")
SYSTEM = "businesscentral"
ENTITY = {stream.name: stream.entity for stream in STREAMS}


def _connections(sandbox) -> list[Connection]:
    return sandbox.registry.select(systems=[SYSTEM])


def _by_entity(keys_by_stream: dict[str, set[str]]) -> dict[str, set[str]]:
    """Read keys by canonical entity (one entity set each), the empty ones left out as the served side does."""
    return {ENTITY[name]: found for name, found in keys_by_stream.items() if found}


def _absent_in_bc(record: Record) -> bool:
    """BC keeps no tombstones, and deletes a cancelled order."""
    cancelled_order = record.entity in ("sales_order", "purchase_order") and record.body.get("status") == "cancelled"
    return record.deleted or cancelled_order


def _served_keys(sandbox, connection: Connection, window: Window) -> dict[str, set[str]]:
    clock = store_end(sandbox.store)
    keys = {
        entity: {
            record.record_id
            for record in sandbox.store.records(
                SYSTEM, connection.company_id, entity, as_of=clock, updated_since=window.since, updated_before=window.until,
            )
            if not _absent_in_bc(record)
        }
        for entity in connection.entities
    }
    return {entity: found for entity, found in keys.items() if found}


def _full_window(sandbox) -> Window:
    return Window(None, store_end(sandbox.store) + timedelta(seconds=1))


def test_given_no_faults_when_every_stream_of_every_tenant_is_read_then_the_keys_are_what_the_emulator_serves(served_sandbox):
    connections, window = _connections(served_sandbox), _full_window(served_sandbox)
    with served_sandbox.faults(SYSTEM):
        read = read_tenants(connections, window)
    for connection, (keys, _) in zip(connections, read):
        assert _by_entity(keys) == _served_keys(served_sandbox, connection, window), connection.id


def test_given_faults_and_short_tokens_when_every_tenant_is_read_then_every_record_still_arrives(served_sandbox):
    connections, window = _connections(served_sandbox), _full_window(served_sandbox)
    faults = dict(error_rate=0.10, throttle_rate=0.05, timeout_rate=0.02, timeout_seconds=3, truncate_rate=0.05, token_ttl_seconds=4)
    with served_sandbox.faults(SYSTEM, **faults):
        read = read_tenants(connections, window, timeout=httpx.Timeout(1.0))
    for connection, (keys, _) in zip(connections, read):
        assert _by_entity(keys) == _served_keys(served_sandbox, connection, window), connection.id
    retried = {reason for _, stats in read for reason in stats.retries}
    assert {"truncated", "ReadTimeout", "429"} <= retried, retried


def test_given_a_window_when_read_then_the_records_updated_in_it_arrive_including_the_since_boundary(served_sandbox):
    connection = _connections(served_sandbox)[0].model_copy(update={"entities": ("invoice",)})
    invoices = list(served_sandbox.store.records(SYSTEM, connection.company_id, "invoice", as_of=store_end(served_sandbox.store)))
    on_boundary, after_window = invoices[len(invoices) // 3], invoices[2 * len(invoices) // 3]
    window = Window(on_boundary.updated_at, after_window.updated_at)
    with served_sandbox.faults(SYSTEM):
        keys = _by_entity(asyncio.run(read_keys(connection, window))[0])
    assert keys == _served_keys(served_sandbox, connection, window)
    assert on_boundary.record_id in keys["invoice"] and after_window.record_id not in keys["invoice"]


def _sample_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    """Microsoft's published samples as two pages of a collection: a token grant, then the entities."""
    invoice = json.loads((FIXTURES / "salesInvoice.json").read_text())
    invoice["salesInvoiceLines"] = [json.loads((FIXTURES / "salesInvoiceLine.json").read_text())]
    pages = {
        "customers": [json.loads((FIXTURES / "customer.json").read_text())],
        "items": [json.loads((FIXTURES / "item.json").read_text())],
        "salesInvoices": [invoice],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/oauth2/v2.0/token"):
            return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "sample-access"})
        entity_set = request.url.path.rsplit("/", 1)[-1]
        body: dict = {"@odata.context": "https://api.businesscentral.dynamics.com/v2.0/$metadata", "value": pages[entity_set]}
        if "$skiptoken" not in request.url.params:
            body = {**body, "value": [], "@odata.nextLink": str(request.url.copy_add_param("$skiptoken", "next"))}
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def _sample_connection(tmp_path: Path, entities: tuple[str, ...]) -> Connection:
    (tmp_path / "secret").write_text("sample-client-secret")
    return Connection(
        system=SYSTEM, company_id="sample", base_url="https://api.businesscentral.dynamics.com", entities=entities,
        settings={"tenant_id": "tenant-guid", "environment": "production", "company_id": "company-guid", "client_id": "client"},
        credentials={"client_secret": f"file:{tmp_path / 'secret'}"},
    )


@pytest.mark.parametrize(("entity", "entity_set", "first_id", "first_updated"), [
    ("customer", "customers", "f2a5738a-44e3-ea11-bb43-000d3a2feca1", datetime(2020, 8, 21, 7, 38, 44, 293000, timezone.utc)),
    ("product", "items", "fca5738a-44e3-ea11-bb43-000d3a2feca1", datetime(2020, 8, 21, 0, 24, 19, 347000, timezone.utc)),
    ("invoice", "salesInvoices", "9e0f5c9c-44e3-ea11-bb43-000d3a2feca1", datetime(2020, 8, 21, 0, 25, 58, 337000, timezone.utc)),
])
def test_given_the_real_samples_when_read_then_next_links_are_followed_and_ids_and_update_times_parse(
    tmp_path, entity, entity_set, first_id, first_updated,
):
    seen: list[httpx.Request] = []
    connector = BusinessCentralConnector(_sample_connection(tmp_path, (entity,)), transport=_sample_transport(seen))
    [stream] = connector.streams()
    window = Window(datetime(2020, 1, 1, tzinfo=timezone.utc), datetime(2021, 1, 1, tzinfo=timezone.utc))

    async def read() -> list[dict]:
        return [record async for page in connector.read(stream, window) for record in page]

    [record] = asyncio.run(read())
    assert (stream.key(record), stream.updated_at(record)) == (first_id, first_updated)
    token, first, second = seen
    assert token.url == httpx.URL("https://login.microsoftonline.com/tenant-guid/oauth2/v2.0/token")
    assert b"client_credentials" in token.content and b"scope=https" in token.content
    assert first.url.path == f"/v2.0/tenant-guid/production/api/v2.0/companies(company-guid)/{entity_set}"
    assert first.url.params["$filter"] == (
        "lastModifiedDateTime ge 2020-01-01T00:00:00.000Z and lastModifiedDateTime lt 2021-01-01T00:00:00.000Z"
    )
    assert second.url.params["$skiptoken"] == "next" and second.headers["Authorization"] == "Bearer sample-access"
    if entity == "invoice":
        assert first.url.params["$expand"] == "salesInvoiceLines" and record["salesInvoiceLines"][0]["documentId"] == first_id


def test_given_a_wrong_client_secret_when_read_then_the_error_and_logs_name_no_secret(served_sandbox, tmp_path, caplog, capsys):
    connection = _connections(served_sandbox)[0]
    real_secret = resolve_secret(connection.credentials["client_secret"]).get_secret_value()
    (tmp_path / "secret").write_text("a-wrong-client-secret")
    broken = connection.model_copy(update={"credentials": {"client_secret": f"file:{tmp_path / 'secret'}"}})

    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as refused:
        asyncio.run(read_keys(broken, _full_window(served_sandbox)))
    told = str(refused.value) + caplog.text + "".join(capsys.readouterr())
    assert connection.id in str(refused.value)
    assert real_secret not in told and "a-wrong-client-secret" not in told
