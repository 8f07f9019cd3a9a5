"""NetSuite connector against the served sandbox (record API, SuiteQL fallback, deletedrecord) and the real
sample payload."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import Stream, Window
from connectors.http.client import SourceError
from connectors.netsuite import NetSuiteConnector
from connectors.registry import Connection
from tests.connectors.conftest import Found, read_records, read_tenants

FIXTURES = Path("/work/shared/fixtures/netsuite")
BELOW_STALL = httpx.Timeout(1.0, connect=1.0)  # a read timeout below the faults' 3 s stall
SYSTEM = "netsuite"


def clock(sandbox) -> datetime:
    return datetime.fromisoformat(httpx.get(f"{sandbox.base_url}/_sandbox/clock").json()["now"])


def connections(sandbox) -> list[Connection]:
    return sandbox.registry.select(systems=[SYSTEM])


def served(sandbox, connection: Connection, entity: str, *, deleted: bool, as_of: datetime, **window: Any) -> set[str]:
    records = sandbox.store.records(SYSTEM, connection.company_id, entity, as_of=as_of, deleted=deleted, **window)
    return {record.record_id for record in records}


def assert_every_record_read(sandbox, connection: Connection, found: Found, now: datetime) -> None:
    for stream, records in found:
        expected = served(sandbox, connection, stream.entity, deleted=stream.deletes, as_of=now)
        assert {stream.key(record) for record in records} == expected, f"{connection.id} {stream.name}"


def stream_named(found: Found, name: str) -> tuple[Stream, list[dict[str, Any]]]:
    return next((stream, records) for stream, records in found if stream.name == name)


def test_given_no_faults_when_every_stream_is_read_then_keys_equal_what_the_sandbox_serves(served_sandbox):
    now = clock(served_sandbox)
    chosen = connections(served_sandbox)
    results = read_tenants(chosen, Window(None, now + timedelta(seconds=1)), read_records)
    for connection, (found, _) in zip(chosen, results):
        assert connection.settings["timezone"], "the registry names the account's time zone (SuiteQL speaks it)"
        assert_every_record_read(served_sandbox, connection, found, now)
    assert any(records for found, _ in results for stream, records in found if stream.deletes)


def test_given_a_record_read_when_parsed_then_its_updated_at_is_the_store_version(served_sandbox):
    now = clock(served_sandbox)
    connection = connections(served_sandbox)[0].model_copy(update={"entities": ("invoice",)})
    invoices = list(served_sandbox.store.records(SYSTEM, connection.company_id, "invoice", as_of=now, deleted=False))
    found, _ = asyncio.run(read_records(connection, Window(invoices[-20].updated_at, now)))
    stream, invoices_read = stream_named(found, "invoice")
    assert len(invoices_read) >= 20
    for record in invoices_read:
        truth = served_sandbox.store.get(SYSTEM, connection.company_id, "invoice", stream.key(record), as_of=now)
        assert stream.updated_at(record) == truth.updated_at.replace(microsecond=0)
        assert record["item"]["items"], "item lines are expanded in place"


def test_given_the_record_service_fails_a_type_when_read_then_suiteql_serves_its_records(served_sandbox):
    now = clock(served_sandbox)
    connection = connections(served_sandbox)[0].model_copy(update={"entities": ("payment", "customer")})
    with served_sandbox.faults(SYSTEM, failing_resources=("customerPayment",)):
        found, _ = asyncio.run(read_records(connection, Window(None, now + timedelta(seconds=1))))
    assert_every_record_read(served_sandbox, connection, found, now)
    _, payments = stream_named(found, "customerPayment")
    assert payments and all(record["type"] == "CustPymt" for record in payments), "rows come from SuiteQL"
    _, customers = stream_named(found, "customer")
    assert all("lastModifiedDate" in record for record in customers), "others use the record API"


def test_given_faults_when_every_stream_is_read_then_every_record_arrives(served_sandbox):
    now = clock(served_sandbox)
    smallest = min(connections(served_sandbox), key=lambda c: sum(
        served_sandbox.store.count(SYSTEM, c.company_id, entity, as_of=now) for entity in c.entities))
    faults = dict(error_rate=0.10, throttle_rate=0.05, timeout_rate=0.02, timeout_seconds=3, truncate_rate=0.05,
                  failing_resources=("creditMemo",))
    with served_sandbox.faults(SYSTEM, **faults):
        found, stats = asyncio.run(read_records(smallest, Window(None, now + timedelta(seconds=1)), timeout=BELOW_STALL))
    retried = Counter(stats.retries)
    assert sum(retried.values()) >= 3, f"the faults were met and retried: {dict(retried)}"
    assert_every_record_read(served_sandbox, smallest, found, now)


def test_given_a_window_when_read_then_records_updated_in_it_and_at_its_start_arrive(served_sandbox):
    now = clock(served_sandbox)
    connection = connections(served_sandbox)[0].model_copy(update={"entities": ("sales_order",)})
    orders = list(served_sandbox.store.records(SYSTEM, connection.company_id, "sales_order", as_of=now, deleted=False))
    first, end = orders[len(orders) // 4], orders[len(orders) // 2]
    found, _ = asyncio.run(read_records(connection, Window(first.updated_at, end.updated_at)))
    stream, records = stream_named(found, "salesOrder")
    read = {stream.key(record) for record in records}
    to_second = {"updated_since": first.updated_at.replace(microsecond=0),  # the API's precision
                 "updated_before": end.updated_at.replace(microsecond=0)}
    assert read == served(served_sandbox, connection, "sales_order", deleted=False, as_of=now, **to_second)
    assert first.record_id in read and len(read) < len(orders)


def fixture_connection(tmp_path: Path) -> Connection:
    credentials = {}
    for name in ("consumer_key", "consumer_secret", "token_id", "token_secret"):
        (tmp_path / name).write_text(f"{name}-value-s3cr3t")
        credentials[name] = f"file:{tmp_path / name}"
    return Connection(system=SYSTEM, company_id="demo", base_url="https://runbox3.corp.netsuite.com",
                      entities=("sales_order",), settings={"account_id": "TSTDRV1"}, credentials=credentials)


def test_given_the_real_sample_record_when_read_then_its_id_and_last_modified_are_parsed(tmp_path):
    sample = json.loads((FIXTURES / "salesOrder_rest.json").read_text())
    listing = {"links": [], "count": 1, "hasMore": False, "offset": 0, "totalResults": 1,
               "items": [{"links": [], "id": "18"}]}
    empty = {**listing, "count": 0, "totalResults": 0, "items": []}

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"].startswith('OAuth realm="TSTDRV1"')
        if request.url.path.endswith("/record/v1/salesOrder"):
            assert request.url.params["q"] == 'lastModifiedDate BEFORE "2026-01-01T00:00:00Z"'
            return httpx.Response(200, json=listing)
        if request.url.path.endswith("/record/v1/salesOrder/18"):
            assert request.url.params["expandSubResources"] == "true"
            return httpx.Response(200, json=sample)
        return httpx.Response(200, json=empty)

    async def run() -> Found:
        connector = NetSuiteConnector(fixture_connection(tmp_path), transport=httpx.MockTransport(answer))
        window = Window(None, datetime.fromisoformat("2026-01-01T00:00:00+00:00"))
        try:
            return [(s, [r async for page in connector.read(s, window) for r in page]) for s in connector.streams()]
        finally:
            await connector.aclose()

    stream, (record,) = stream_named(asyncio.run(run()), "salesOrder")
    assert record == sample, "records pass on as the source sent them"
    assert stream.key(record) == "18"
    assert sample["lastModifiedDate"] == "2020-07-29T08:34:00Z"
    assert stream.updated_at(record) == datetime(2020, 7, 29, 8, 34, tzinfo=timezone.utc)


def test_given_a_wrong_token_secret_when_read_then_the_error_names_the_connection_but_no_secret(
    served_sandbox, tmp_path, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    connection = connections(served_sandbox)[0].model_copy(update={"entities": ("customer",)})
    wrong = tmp_path / "token_secret"
    wrong.write_text("not-the-token-secret-0123456789")
    broken = connection.model_copy(update={"credentials": {**connection.credentials, "token_secret": f"file:{wrong}"}})
    secrets = {Path(ref.removeprefix("file:")).read_text().strip()
               for ref in [*connection.credentials.values(), *broken.credentials.values()]}
    with pytest.raises(SourceError) as refused:
        asyncio.run(read_records(broken, Window(None, clock(served_sandbox))))
    assert refused.value.status == 401 and connection.id in str(refused.value)
    shown = str(refused.value) + caplog.text + "".join(capsys.readouterr())
    assert not [secret for secret in secrets if secret in shown]
