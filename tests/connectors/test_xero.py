"""Xero connector: against the served sandbox (whole reads, faults, windows) and the real API's samples."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from connectors.base import Window
from connectors.http.auth import AuthError
from connectors.registry import Connection
from connectors.sandbox.emulators.runtime import store_end
from connectors.secrets import resolve_secret
from connectors.xero import XeroConnector
from connectors.xero.streams import STREAMS
from tests.connectors.conftest import read_keys, read_tenants

FIXTURES = Path("/work/shared/fixtures/xero")
SYSTEM = "xero"
FEEDS = {stream.resource: feeds for feeds, stream in STREAMS}
RESOURCE = {stream.name: stream.resource for _, stream in STREAMS}


def _nonempty(keys: dict[str, set[str]]) -> dict[str, set[str]]:
    return {resource: found for resource, found in keys.items() if found}


def _connections(sandbox) -> list[Connection]:
    return sandbox.registry.select(systems=[SYSTEM])


def _by_resource(keys_by_stream: dict[str, set[str]]) -> dict[str, set[str]]:
    """Read keys by Xero resource (its listing and its deletion listings together), GUIDs lower-cased."""
    keys: dict[str, set[str]] = defaultdict(set)
    for name, found in keys_by_stream.items():
        keys[RESOURCE[name]].update(key.lower() for key in found)
    return _nonempty(keys)


def _served_keys(sandbox, company_id: str, *, since: datetime | None = None, until: datetime | None = None) -> dict[str, set[str]]:
    """What the emulator lists at its clock: everything but deleted items (Xero forgets those)."""
    clock = store_end(sandbox.store)
    keys: dict[str, set[str]] = defaultdict(set)
    for resource, entities in FEEDS.items():
        for entity in entities:
            for record in sandbox.store.records(SYSTEM, company_id, entity, as_of=clock, updated_since=since, updated_before=until):
                if not (record.deleted and entity == "product"):
                    keys[resource].add(record.record_id.lower())
    return _nonempty(keys)


def _full_window(sandbox) -> Window:
    return Window(None, store_end(sandbox.store) + timedelta(seconds=1))


def test_given_no_faults_when_every_stream_of_every_tenant_is_read_then_the_keys_are_what_the_emulator_serves(served_sandbox):
    connections = _connections(served_sandbox)
    with served_sandbox.faults(SYSTEM):
        read = read_tenants(connections, _full_window(served_sandbox))
    for connection, (keys, _) in zip(connections, read):
        assert _by_resource(keys) == _served_keys(served_sandbox, connection.company_id), connection.id


def test_given_faults_and_short_tokens_when_every_tenant_is_read_then_every_record_still_arrives(served_sandbox):
    connections = _connections(served_sandbox)
    faults = dict(error_rate=0.10, throttle_rate=0.05, timeout_rate=0.02, timeout_seconds=3, truncate_rate=0.05, token_ttl_seconds=4)
    with served_sandbox.faults(SYSTEM, **faults):
        read = read_tenants(connections, _full_window(served_sandbox), timeout=httpx.Timeout(1.0))
    for connection, (keys, _) in zip(connections, read):
        assert _by_resource(keys) == _served_keys(served_sandbox, connection.company_id), connection.id
    retried = {reason for _, stats in read for reason in stats.retries}
    assert {"truncated", "ReadTimeout", "429"} <= retried, retried


def test_given_a_window_when_read_then_the_records_updated_in_it_arrive_including_the_boundary(served_sandbox):
    connection = _connections(served_sandbox)[0].model_copy(update={"entities": ("invoice",)})
    invoices = list(served_sandbox.store.records(SYSTEM, connection.company_id, "invoice", as_of=store_end(served_sandbox.store)))
    since = invoices[len(invoices) // 2].updated_at  # a record sits exactly on the boundary
    with served_sandbox.faults(SYSTEM):
        keys = _by_resource(asyncio.run(read_keys(connection, Window(since, _full_window(served_sandbox).until)))[0])
    expected = _served_keys(served_sandbox, connection.company_id, since=since)["Invoices"]
    assert invoices[len(invoices) // 2].record_id.lower() in keys["Invoices"]
    assert expected <= keys["Invoices"] and len(keys["Invoices"]) < len(invoices)


def _sample_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    """Xero's published samples: a token grant, then the Invoices page and the Contacts page."""
    bodies = {name: json.loads((FIXTURES / f"{name}.json").read_text()) for name in ("invoices_page", "contacts")}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/connect/token"):
            return httpx.Response(200, json={"access_token": "sample-access", "expires_in": 1800, "refresh_token": "rotated"})
        resource = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=bodies["invoices_page" if resource == "Invoices" else "contacts"])

    return httpx.MockTransport(handler)


def _sample_connection(tmp_path: Path, entities: tuple[str, ...]) -> Connection:
    (tmp_path / "refresh").write_text("first-refresh")
    (tmp_path / "secret").write_text("sample-client-secret")
    return Connection(
        system=SYSTEM, company_id="sample", base_url="https://api.xero.com", entities=entities,
        settings={"tenant_id": "tenant-guid", "client_id": "client"},
        credentials={"refresh_token": f"file:{tmp_path / 'refresh'}", "client_secret": f"file:{tmp_path / 'secret'}"},
    )


@pytest.mark.parametrize(("entity", "resource", "first_id", "first_updated"), [
    ("invoice", "Invoices", "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2", datetime(2018, 11, 2, 16, 31, 30, 160000, timezone.utc)),
    ("customer", "Contacts", "5cc8cf28-567e-4d43-b287-687cfcaec47c", datetime(2017, 8, 21, 20, 49, 4, 227000, timezone.utc)),
])
def test_given_the_real_sample_pages_when_read_then_ids_and_update_times_parse(tmp_path, entity, resource, first_id, first_updated):
    seen: list[httpx.Request] = []
    connector = XeroConnector(_sample_connection(tmp_path, (entity,)), transport=_sample_transport(seen))
    stream = next(s for s in connector.streams() if s.resource == resource and not s.deletes)

    async def read() -> list[dict]:
        return [record async for page in connector.read(stream, Window(datetime(2018, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc))) for record in page]

    records = asyncio.run(read())
    assert stream.key(records[0]) == first_id
    assert stream.updated_at(records[0]) == first_updated
    token_request, api_request = seen
    assert token_request.url == httpx.URL("https://identity.xero.com/connect/token")
    assert (tmp_path / "refresh").read_text() == "rotated"
    assert api_request.url.path == f"/api.xro/2.0/{resource}"
    assert api_request.url.params["page"] == "1" and api_request.headers["If-Modified-Since"] == "2018-01-01T00:00:00"
    assert api_request.headers["Xero-tenant-id"] == "tenant-guid"
    assert api_request.headers["Accept"] == "application/json"


def test_given_a_refused_refresh_token_when_read_then_the_error_and_logs_name_no_secret(served_sandbox, tmp_path, caplog, capsys):
    connection = _connections(served_sandbox)[0]
    secrets = {name: resolve_secret(ref).get_secret_value() for name, ref in connection.credentials.items()}
    (tmp_path / "refresh").write_text("a-retired-refresh-token")
    broken = connection.model_copy(update={"credentials": {**connection.credentials, "refresh_token": f"file:{tmp_path / 'refresh'}"}})

    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as refused:
        asyncio.run(read_keys(broken, _full_window(served_sandbox)))
    told = str(refused.value) + caplog.text + "".join(capsys.readouterr())
    assert connection.id in str(refused.value)
    for value in (*secrets.values(), "a-retired-refresh-token"):
        assert value not in told
