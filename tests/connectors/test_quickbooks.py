"""QuickBooks Online connector: against the served sandbox (whole, faulty, incremental), the real sample
payloads, and refused credentials."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from connectors.base import Window
from connectors.catalog import connector_class
from connectors.http.auth import AuthError
from connectors.quickbooks.client import CDC_LOOKBACK, CDC_MARGIN
from connectors.registry import Connection
from connectors.sandbox.emulators.runtime import store_end
from tests.connectors.conftest import read_keys, read_tenants

FIXTURES = Path("/work/shared/fixtures/quickbooks")
SYSTEM = "quickbooks"
NAMES = {"Customer": "customer", "Vendor": "vendor", "Item": "product"}
TRANSACTIONS = {"Invoice": "invoice", "Payment": "payment", "CreditMemo": "credit_note", "PurchaseOrder": "purchase_order"}


def _served_keys(sandbox, company_id: str, clock: datetime) -> dict[str, set[str]]:
    """What QBO shows: every name (a deleted one as inactive), live transactions by query, and the deleted
    ones by CDC as far back as it reaches."""
    def keys(entity: str, keep) -> set[str]:
        return {r.record_id for r in sandbox.store.records(SYSTEM, company_id, entity, as_of=clock) if keep(r)}

    cdc_reach = (clock - CDC_LOOKBACK + CDC_MARGIN).replace(microsecond=0)
    served = {name: keys(entity, lambda r: True) for name, entity in NAMES.items()}
    for name, entity in TRANSACTIONS.items():
        served[name] = keys(entity, lambda r: not r.deleted)
        served[f"{name}_deleted"] = keys(entity, lambda r: r.deleted and r.updated_at >= cdc_reach)
    return served


def _small_pages(connection: Connection) -> Connection:
    return connection.model_copy(update={"settings": {**connection.settings, "page_size": "50"}})


def test_given_no_faults_when_every_stream_of_every_realm_is_read_then_the_keys_are_what_qbo_shows(served_sandbox):
    clock = store_end(served_sandbox.store)
    connections = served_sandbox.registry.select(systems=[SYSTEM])

    results = read_tenants(connections, Window(None, clock))
    assert connections, "the sandbox has QuickBooks tenants"
    for connection, (keys, _) in zip(connections, results):
        assert keys == _served_keys(served_sandbox, connection.company_id, clock), connection.company_id
    assert any(keys["Invoice_deleted"] for keys, _ in results), "the sandbox deletes some invoices"


def test_given_faults_and_expiring_tokens_when_realms_are_read_then_every_record_still_arrives(served_sandbox):
    clock = store_end(served_sandbox.store)
    faults = dict(error_rate=0.10, throttle_rate=0.05, timeout_rate=0.02, timeout_seconds=3, truncate_rate=0.05,
                  token_ttl_seconds=2)
    connections = [_small_pages(c) for c in served_sandbox.registry.select(systems=[SYSTEM])][:4]

    with served_sandbox.faults(SYSTEM, **faults):
        results = read_tenants(connections, Window(None, clock), timeout=httpx.Timeout(1.0, connect=1.0))

    assert sum(sum(stats.retries.values()) for _, stats in results) > 0, "the faults were injected and retried"
    for connection, (keys, _) in zip(connections, results):
        assert keys == _served_keys(served_sandbox, connection.company_id, clock), connection.company_id


def test_given_a_window_when_invoices_are_read_then_those_updated_in_it_arrive_from_its_start_inclusive(served_sandbox):
    clock = store_end(served_sandbox.store)
    connection = max(served_sandbox.registry.select(systems=[SYSTEM]), key=lambda c: sum(
        1 for _ in served_sandbox.store.records(SYSTEM, c.company_id, "invoice", as_of=clock)))
    invoices = [r for r in served_sandbox.store.records(SYSTEM, connection.company_id, "invoice", as_of=clock) if not r.deleted]
    since, until = invoices[len(invoices) // 3].updated_at, invoices[2 * len(invoices) // 3].updated_at

    keys, _ = asyncio.run(read_keys(_small_pages(connection), Window(since, until)))

    inside = {r.record_id for r in invoices if since <= r.updated_at < until}
    assert invoices[len(invoices) // 3].record_id in keys["Invoice"]
    assert inside and keys["Invoice"] == inside


def _cdc_from_xml_fixture() -> dict:
    """The CDC sample (XML, as recorded) in the JSON envelope QBO answers when asked for JSON."""
    ns = {"q": "http://schema.intuit.com/finance/v3"}
    root = ElementTree.parse(FIXTURES / "cdc_invoice_deleted.xml").getroot()
    invoices = [
        {"domain": node.get("domain"), "status": node.get("status"), "Id": node.findtext("q:Id", namespaces=ns),
         "MetaData": {"LastUpdatedTime": node.findtext("q:MetaData/q:LastUpdatedTime", namespaces=ns)}}
        for node in root.iterfind("q:CDCResponse/q:QueryResponse/q:Invoice", ns)
    ]
    answer = {"Invoice": invoices, "startPosition": 1, "maxResults": len(invoices), "totalCount": len(invoices)}
    return {"CDCResponse": [{"QueryResponse": [answer]}], "time": root.get("time")}


def _fixture_realm(requests: list[httpx.Request]) -> httpx.MockTransport:
    """A realm serving the real samples: a query walk of two one-invoice pages, then an empty page; CDC."""
    pages = [
        json.loads((FIXTURES / "query_invoice.json").read_text()),
        {"QueryResponse": {"Invoice": [json.loads((FIXTURES / "invoice.json").read_text())["Invoice"]],
                           "startPosition": 2, "maxResults": 1}},
        {"QueryResponse": {}},
    ]

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path.endswith("/tokens/bearer"):
            return httpx.Response(200, json={"token_type": "bearer", "access_token": "access-1", "expires_in": 3600,
                                             "refresh_token": "rotated-refresh", "x_refresh_token_expires_in": 8726400})
        if request.url.params.get("query", "").startswith("SELECT COUNT(*)"):
            return httpx.Response(200, json={"QueryResponse": {"totalCount": 2}, "time": "2014-12-20T10:00:00.000-08:00"})
        if request.url.path.endswith("/cdc"):
            return httpx.Response(200, json=_cdc_from_xml_fixture())
        start = int(request.url.params["query"].split("STARTPOSITION ")[1].split()[0])
        return httpx.Response(200, json=pages[start - 1])

    return httpx.MockTransport(handle)


def _fixture_connection(tmp_path: Path, refresh_token: str = "first-refresh") -> Connection:
    (tmp_path / "refresh_token").write_text(refresh_token)
    (tmp_path / "client_secret").write_text("fixture-client-secret")
    return Connection(
        system=SYSTEM, company_id="fixture", base_url="https://quickbooks.api.intuit.com", entities=("invoice",),
        settings={"realm_id": "123145", "client_id": "ABfixture", "page_size": "1"},
        credentials={"refresh_token": f"file:{tmp_path / 'refresh_token'}", "client_secret": f"file:{tmp_path / 'client_secret'}"},
    )


def test_given_real_sample_payloads_when_read_then_ids_update_times_and_deletions_parse(tmp_path):
    requests: list[httpx.Request] = []
    connection = _fixture_connection(tmp_path)
    window = Window(datetime(2014, 12, 1, tzinfo=timezone.utc), datetime(2014, 12, 20, tzinfo=timezone.utc))

    async def scenario():
        connector = connector_class(SYSTEM)(connection, transport=_fixture_realm(requests))
        read = {}
        for stream in connector.streams():
            read[stream.name] = [(stream.key(r), stream.updated_at(r)) async for page in connector.read(stream, window) for r in page]
        await connector.aclose()
        return read

    read = asyncio.run(scenario())

    assert read["Invoice"] == [("239", None), ("130", datetime(2014, 9, 19, 20, 16, 17, tzinfo=timezone.utc))]
    assert read["Invoice_deleted"] == [("39", datetime(2014, 12, 9, 3, 36, 24, tzinfo=timezone.utc))]
    token, *queries, count, cdc = requests
    assert str(token.url) == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    assert (tmp_path / "refresh_token").read_text() == "rotated-refresh"
    assert [q.url.path for q in queries] == ["/v3/company/123145/query"] * 3
    assert [q.url.params["query"].split("STARTPOSITION ")[1] for q in queries] == [f"{n} MAXRESULTS 1" for n in (1, 2, 3)]
    assert "MetaData.LastUpdatedTime >= '2014-12-01T00:00:00+00:00'" in queries[0].url.params["query"]
    assert cdc.url.params["entities"] == "Invoice" and cdc.url.params["changedSince"] == "2014-12-01T00:00:00+00:00"
    assert all(r.headers["Authorization"] == "Bearer access-1" for r in [*queries, cdc])


def test_given_a_retired_refresh_token_when_read_then_it_fails_naming_the_realm_and_never_a_secret(
    served_sandbox, tmp_path, capsys, caplog,
):
    real = served_sandbox.registry.select(systems=[SYSTEM])[0]
    retired = "retired-refresh-token-that-the-server-refuses-0123456789"
    (tmp_path / "refresh_token").write_text(retired)
    connection = real.model_copy(update={"credentials": {**real.credentials, "refresh_token": f"file:{tmp_path / 'refresh_token'}"}})
    client_secret = Path(real.credentials["client_secret"].removeprefix("file:")).read_text().strip()

    with pytest.raises(AuthError) as failure:
        asyncio.run(read_keys(connection, Window(None, store_end(served_sandbox.store))))

    captured = capsys.readouterr()
    seen = str(failure.value) + captured.out + captured.err + caplog.text
    assert real.id in str(failure.value)
    assert retired not in seen and client_secret not in seen


def test_given_a_cdc_answer_at_its_cap_when_deletions_are_read_then_cdc_is_asked_again_from_the_newest_change(tmp_path):
    connection = _fixture_connection(tmp_path)
    start = datetime(2014, 12, 1, tzinfo=timezone.utc)
    full = [  # 1000 changes a minute apart, every other one a deletion
        {"Id": str(n), "status": "Deleted" if n % 2 else None,
         "MetaData": {"LastUpdatedTime": (start + timedelta(minutes=n)).isoformat()}}
        for n in range(1000)
    ]
    answers = {start.isoformat(): full, full[-1]["MetaData"]["LastUpdatedTime"]: [full[-1], {**full[-1], "Id": "1000"}]}
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tokens/bearer"):
            return httpx.Response(200, json={"access_token": "access-1", "expires_in": 3600, "refresh_token": "next"})
        if request.url.path.endswith("/query"):
            return httpx.Response(200, json={"QueryResponse": {"totalCount": 1001}, "time": "2014-12-20T00:00:00-08:00"})
        asked.append(request.url.params["changedSince"])
        return httpx.Response(200, json={"CDCResponse": [{"QueryResponse": [{"Invoice": answers[asked[-1]]}]}]})

    async def scenario():
        connector = connector_class(SYSTEM)(connection, transport=httpx.MockTransport(handle))
        stream = next(s for s in connector.streams() if s.deletes)
        keys = [stream.key(r) async for page in connector.read(stream, Window(start, start + timedelta(days=2))) for r in page]
        await connector.aclose()
        return keys

    keys = asyncio.run(scenario())

    assert asked == [start.isoformat(), full[-1]["MetaData"]["LastUpdatedTime"]]
    assert set(keys) == {str(n) for n in range(1, 1000, 2)} | {"1000"}
