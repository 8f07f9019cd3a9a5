"""The NetSuite SuiteTalk REST emulator (record API, SuiteQL, token-based auth), through its HTTP surface."""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import anyio
import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from connectors.sandbox.config import DriftRule, FaultConfig
from connectors.sandbox.emulators import EmulatorSettings, build_app, tenant_credentials
from connectors.sandbox.emulators.limits import LimitPolicy
from connectors.sandbox.model import Company, Record, native_id
from connectors.sandbox.store import SandboxStore
from tests.sandbox.conftest import (
    T0,
    FakeTimer,
    client,
    document,
    master_data,
    payment,
    record,
    sandbox_store,
    tenant,
    visible_ids,
    with_revisions,
)

pytestmark = pytest.mark.anyio

ACME = tenant(
    "c00101", "Acme Supply", "netsuite", sector="wholesale", region="NA", country="US", currency="USD",
    timezone="America/Chicago", locale="en_US",
)
BETA = tenant(
    "c00102", "Beta Parts", "netsuite", sector="manufacturing", region="EU", country="GB", currency="GBP",
    timezone="Europe/London", locale="en_GB",
)
SETTINGS = EmulatorSettings()
ACME_KEYS = tenant_credentials("netsuite", ACME, SETTINGS)
BETA_KEYS = tenant_credentials("netsuite", BETA, SETTINGS)
REST = f"/accounts/{ACME_KEYS['account_id']}/services/rest"
LATER = timedelta(days=25)


def _id(entity: str, serial: int, company: Company = ACME) -> str:
    return native_id("netsuite", company.company_id, entity, serial)


def _netsuite_records(company: Company) -> Iterator[Record]:
    yield from master_data("netsuite", company, customer="Client{} Co", vendor="Supplier{} Ltd", currency="USD")
    for serial in range(1, 7):
        at = T0 + timedelta(days=serial, hours=2)
        body = document("netsuite", company, f"SO-{serial:05d}", serial % 4 + 1, at, [1.0, 2.0], "open")
        first = record("netsuite", company, "sales_order", serial, at, body)
        yield from with_revisions(first, serial, at + LATER, changes={3: {"status": "cancelled"}}, deleted=[5])
    for serial in range(1, 9):
        at = T0 + timedelta(days=serial, hours=8)
        body = document("netsuite", company, f"INV-{serial:05d}", serial % 4 + 1, at, [1.0, 3.0], "open",
                        due_on=(at + timedelta(days=30)).date().isoformat())
        body["balance"] = body["total"]
        fates = {2: {"status": "void", "balance": 0.0}, 6: {"status": "paid", "balance": 0.0}}
        first = record("netsuite", company, "invoice", serial, at, body)
        yield from with_revisions(first, serial, at + LATER, changes=fates, deleted=[4])
    for serial in range(1, 3):
        at = T0 + timedelta(days=serial + 3)
        body = payment(_id("customer", 1, company), _id("invoice", serial, company), at, amount=44.0, currency="USD",
                       method="check")
        yield record("netsuite", company, "payment", serial, at, body)
    at = T0 + timedelta(days=9)
    credit = document("netsuite", company, "CN-00001", 1, at, [1.0], "open", applies_to=_id("invoice", 1, company))
    yield record("netsuite", company, "credit_note", 1, at, credit)
    for serial, status in ((1, "open"), (2, "cancelled")):
        at = T0 + timedelta(days=serial, hours=1)
        po = document("netsuite", company, f"PO-{serial:05d}", 1, at, [4.0], status, party_id=_id("vendor", 1, company))
        yield record("netsuite", company, "purchase_order", serial, at, po)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox_store(tmp_path_factory, [ACME, BETA], itertools.chain(_netsuite_records(ACME), _netsuite_records(BETA)))


class Tba(httpx.Auth):
    """Signs each request as a NetSuite TBA client does (OAuth 1.0a, HMAC-SHA256, realm = account id)."""

    def __init__(self, keys: dict[str, str], timer: FakeTimer, *, token_secret: str | None = None) -> None:
        self.keys = keys
        self.timer = timer
        self.token_secret = token_secret or keys["token_secret"]
        self.nonces = (f"{keys['token_id'][:8]}{n:06d}" for n in itertools.count())
        self.last_nonce = ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.last_nonce = next(self.nonces)
        signer = Client(
            self.keys["consumer_key"],
            client_secret=self.keys["consumer_secret"],
            resource_owner_key=self.keys["token_id"],
            resource_owner_secret=self.token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            realm=self.keys["account_id"],
            nonce=self.last_nonce,
            timestamp=str(int(self.timer())),
        )
        request.headers["Authorization"] = signer.sign(str(request.url), request.method)[1]["Authorization"]
        yield request


def _app(store: SandboxStore, timer: FakeTimer, settings: EmulatorSettings = SETTINGS):
    return build_app("netsuite", store, settings, timer=timer)


async def _suiteql(http: httpx.AsyncClient, auth: Tba, q: str, **params: str) -> httpx.Response:
    return await http.post(
        f"{REST}/query/v1/suiteql", params=params, json={"q": q}, headers={"Prefer": "transient"}, auth=auth
    )


def _ids(response: httpx.Response) -> list[str]:
    return [item["id"] for item in response.json()["items"]]


async def test_given_small_pages_when_walking_sales_orders_then_each_live_one_arrives_once_in_update_order(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    seen, pages = [], []
    async with client(_app(store, timer)) as http:
        url: str | None = f"{REST}/record/v1/salesOrder?limit=2"
        while url:
            page = (await http.get(url, auth=auth)).json()
            pages.append(page)
            seen += [item["id"] for item in page["items"]]
            url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)

    assert seen == visible_ids(store, "netsuite", ACME, "sales_order")
    assert len(seen) == 5 and _id("sales_order", 5) not in seen
    assert [p["hasMore"] for p in pages] == [True, True, False]
    assert {p["totalResults"] for p in pages} == {5}
    assert pages[1]["offset"] == 2 and pages[1]["count"] == 2
    assert pages[0]["items"][0]["links"][0]["href"].endswith(f"{REST}/record/v1/salesOrder/{seen[0]}")


async def test_given_a_last_modified_filter_when_listing_invoices_then_only_later_changes_come(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    async with client(_app(store, timer)) as http:
        after = await http.get(
            f"{REST}/record/v1/invoice", params={"q": 'lastModifiedDate AFTER "2026-02-01T00:00:00Z"'}, auth=auth
        )
        whole_day = await http.get(
            f"{REST}/record/v1/invoice", params={"q": 'lastModifiedDate ON "1/6/2026"'}, auth=auth
        )
        unknown = await http.get(f"{REST}/record/v1/invoice", params={"q": 'tranId IS "INV-1"'}, auth=auth)

    assert _ids(after) == [_id("invoice", 2), _id("invoice", 6)]  # the void and the payment; the delete is gone
    assert _ids(whole_day) == [_id("invoice", 1)]  # 2026-01-06 in Chicago holds invoice 1 (14:00 local)
    assert unknown.status_code == 400
    assert unknown.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"


async def test_given_a_sales_order_when_read_then_it_has_the_fixture_shape_and_sublists_expand_on_request(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    order_id = _id("sales_order", 1)
    async with client(_app(store, timer)) as http:
        collapsed = (await http.get(f"{REST}/record/v1/salesorder/{order_id}", auth=auth)).json()
        expanded = (
            await http.get(f"{REST}/record/v1/salesOrder/{order_id}", params={"expandSubResources": "true"}, auth=auth)
        ).json()
        lines = (await http.get(f"{REST}/record/v1/salesOrder/{order_id}/item", auth=auth)).json()

    assert (collapsed["tranId"], collapsed["status"], collapsed["orderStatus"]) == ("SO-00001", "B", "B")
    assert collapsed["tranDate"] == "2026-01-06" and collapsed["lastModifiedDate"] == "2026-01-06T17:00:00Z"
    assert collapsed["entity"]["refName"] == "Client2 Co" and collapsed["entity"]["id"] == _id("customer", 2)
    assert collapsed["currency"]["refName"] == "USD" and collapsed["currency"]["id"] == "1"
    assert list(collapsed["item"]) == ["links"]
    assert collapsed["item"]["links"][0]["href"].endswith(f"/record/v1/salesorder/{order_id}/item")
    assert [line["quantity"] for line in expanded["item"]["items"]] == [1.0, 2.0]
    assert expanded["item"]["items"][1]["item"]["refName"] == "SKU-2"
    assert lines["items"] == expanded["item"]["items"] and lines["totalResults"] == 2


async def test_given_a_voided_and_a_deleted_invoice_when_read_then_void_is_zeroed_and_delete_is_gone(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    async with client(_app(store, timer)) as http:
        void = (await http.get(f"{REST}/record/v1/invoice/{_id('invoice', 2)}", auth=auth, params={
            "expandSubResources": "true"})).json()
        gone = await http.get(f"{REST}/record/v1/invoice/{_id('invoice', 4)}", auth=auth)
        deleted = await _suiteql(
            http, auth, "SELECT recordid, recordtype, name FROM deletedrecord ORDER BY deleteddate"
        )

    assert (void["status"], void["total"], void["memo"], void["amountRemaining"]) == ("V", 0.0, "VOID", 0.0)
    assert all(line["amount"] == 0.0 for line in void["item"]["items"])
    assert gone.status_code == 404
    assert gone.json()["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"
    assert [row["recordid"] for row in deleted.json()["items"]] == [_id("invoice", 4), _id("sales_order", 5)]
    assert deleted.json()["items"][0] == {"links": [], "recordid": _id("invoice", 4), "recordtype": "invoice",
                                          "name": "INV-00004"}


async def test_given_forged_stale_replayed_or_foreign_tba_headers_when_calling_then_each_is_401_invalid_login(
    store: SandboxStore, timer: FakeTimer
) -> None:
    url = f"{REST}/record/v1/customer"
    honest = Tba(ACME_KEYS, timer)
    async with client(_app(store, timer)) as http:
        ok = await http.get(url, auth=honest)
        forged = await http.get(url, auth=Tba(ACME_KEYS, timer, token_secret="guessed"))
        replay = honest.last_nonce
        honest.nonces = iter([replay])
        replayed = await http.get(url, auth=honest)
        foreign = await http.get(url, auth=Tba(BETA_KEYS, timer))
        stale_auth = Tba(ACME_KEYS, FakeTimer(timer() - 600))
        stale = await http.get(url, auth=stale_auth)

    assert ok.status_code == 200
    for refused in (forged, replayed, foreign, stale):
        assert refused.status_code == 401
        assert refused.json() == {
            "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
            "title": "Unauthorized",
            "status": 401,
            "o:errorDetails": [
                {
                    "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
                    "at Setup > Users/Roles > User Management > View Login Audit Trail.",
                    "o:errorCode": "INVALID_LOGIN",
                }
            ],
        }


async def test_given_a_suiteql_walk_when_paging_then_rows_come_once_as_text_with_nulls_left_out(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    q = (
        "SELECT t.id, t.tranid, t.type, t.foreigntotal, t.otherrefnum, BUILTIN.DF(t.entity) AS customer, "
        "TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified, t.trandate "
        "FROM transaction t WHERE t.type IN ('CustInvc', 'SalesOrd') "
        "AND t.lastmodifieddate >= TO_TIMESTAMP('2026-01-07 00:00:00', 'YYYY-MM-DD HH24:MI:SS') "
        "ORDER BY t.lastmodifieddate, t.id"
    )
    rows: list[dict] = []
    async with client(_app(store, timer)) as http:
        offset, pages = 0, []
        while True:
            page = (await _suiteql(http, auth, q, limit="4", offset=str(offset))).json()
            pages.append(page)
            rows += page["items"]
            if not page["hasMore"]:
                break
            offset += 4

    local_jan_7 = datetime(2026, 1, 7, 6, 0, tzinfo=timezone.utc)  # midnight in Chicago
    expected = [
        r.record_id
        for r in sorted(
            (r for e in ("invoice", "sales_order") for r in store.records(
                "netsuite", ACME.company_id, e, as_of=datetime(2026, 4, 1, tzinfo=timezone.utc),
                updated_since=local_jan_7, deleted=False)),
            key=lambda r: (r.updated_at, r.record_id),
        )
    ]
    assert [row["id"] for row in rows] == expected
    assert {page["totalResults"] for page in pages} == {len(expected)}
    first = rows[0]
    assert first["type"] == "SalesOrd" and first["foreigntotal"] == "55"
    assert first["customer"] == "Client3 Co" and first["modified"] == "2026-01-07 11:00:00"
    assert first["trandate"] == "1/7/2026" and "otherrefnum" not in first
    assert all(isinstance(value, str) for row in rows for name, value in row.items() if name != "links")


async def test_given_transaction_lines_when_queried_then_sales_lines_carry_netsuites_negative_signs(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    invoice, purchase = _id("invoice", 1), _id("purchase_order", 1)
    async with client(_app(store, timer)) as http:
        response = await _suiteql(
            http, auth,
            f"SELECT transaction, linesequencenumber, BUILTIN.DF(item) sku, quantity, foreignamount "
            f"FROM transactionline WHERE transaction IN ({invoice}, {purchase}) AND mainline = 'F'",
        )

    rows = response.json()["items"]
    assert [(row["transaction"], row["sku"], row["quantity"]) for row in rows] == [
        (purchase, "SKU-1", "4"), (invoice, "SKU-1", "-1"), (invoice, "SKU-2", "-3"),
    ]
    assert rows[2]["foreignamount"] == "-60"


async def test_given_bad_suiteql_requests_when_sent_then_netsuite_answers_400_with_its_error_body(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    async with client(_app(store, timer)) as http:
        unknown_table = await _suiteql(http, auth, "SELECT id FROM unicorn")
        unknown_field = await _suiteql(http, auth, "SELECT horn FROM transaction")
        garbled = await _suiteql(http, auth, "SELECT id transaction WHERE")
        misaligned = await _suiteql(http, auth, "SELECT id FROM customer", limit="10", offset="5")
        not_transient = await http.post(f"{REST}/query/v1/suiteql", json={"q": "SELECT id FROM customer"}, auth=auth)

    for response in (unknown_table, unknown_field, garbled, misaligned, not_transient):
        assert response.status_code == 400 and response.json()["title"] == "Bad Request"
        assert response.headers["content-type"].startswith("application/vnd.oracle.resource+json; type=error")
    detail = unknown_table.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER"
    assert detail["detail"].startswith("Invalid search query. Detailed unprocessed description follows.")
    assert "Record 'unicorn' was not found" in detail["detail"]
    assert "Field 'horn' for record 'transaction' was not found" in unknown_field.text


async def test_given_the_concurrency_limit_when_a_request_overlaps_then_429_without_retry_after(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(
        limits={"netsuite": LimitPolicy(concurrent=1)},
        faults={"netsuite": FaultConfig(slow_rate=1.0, slow_seconds=0.2)},
    )
    auth = Tba(ACME_KEYS, timer)
    responses: list[httpx.Response] = []
    async with client(_app(store, timer, settings)) as http:

        async def call() -> None:
            responses.append(await http.get(f"{REST}/record/v1/vendor", auth=auth))

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            await anyio.sleep(0.05)
            group.start_soon(call)

    refused, admitted = responses
    assert admitted.status_code == 200
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    assert refused.json()["o:errorDetails"] == [
        {"detail": "Concurrent request limit exceeded. Request blocked.", "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}
    ]


async def test_given_a_failing_record_type_when_read_then_the_record_api_refuses_it_and_suiteql_still_serves_it(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    async with client(_app(store, timer)) as http:
        before = await http.get(f"{REST}/record/v1/customerPayment", auth=auth)
        await http.put("/_sandbox/faults/netsuite", json={"failing_resources": ["customerPayment"]})
        listed = await http.get(f"{REST}/record/v1/customerPayment", auth=auth)
        read = await http.get(f"{REST}/record/v1/customerPayment/{_id('payment', 1)}", auth=auth)
        others = await http.get(f"{REST}/record/v1/invoice", auth=auth)
        fallback = await _suiteql(http, auth, "SELECT id, foreigntotal FROM transaction WHERE type = 'CustPymt'")

    assert before.status_code == 200 and _ids(before) == [_id("payment", 1), _id("payment", 2)]
    for refused in (listed, read):
        assert refused.status_code == 400
        assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"
        assert refused.json()["o:errorDetails"][0]["detail"].startswith("Error while accessing a resource.")
    assert others.status_code == 200
    assert [row["id"] for row in fallback.json()["items"]] == _ids(before)


async def test_given_injected_server_errors_when_they_fire_then_netsuite_error_bodies_come_back(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(faults={"netsuite": FaultConfig(error_rate=1.0)})
    async with client(_app(store, timer, settings)) as http:
        response = await http.get(f"{REST}/record/v1/customer", auth=Tba(ACME_KEYS, timer))

    assert response.status_code in (500, 502, 503)
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "UNEXPECTED_ERROR"


async def test_given_a_drift_rule_when_invoices_straddle_its_date_then_only_later_versions_change(
    store: SandboxStore, timer: FakeTimer
) -> None:
    rule = DriftRule(system="netsuite", entity="invoice", on=date(2026, 2, 1), kind="rename", field="total",
                     to="totalAmount")
    auth = Tba(ACME_KEYS, timer)
    async with client(_app(store, timer, EmulatorSettings(drift=[rule]))) as http:
        before = (await http.get(f"{REST}/record/v1/invoice/{_id('invoice', 1)}", auth=auth)).json()
        after = (await http.get(f"{REST}/record/v1/invoice/{_id('invoice', 6)}", auth=auth)).json()

    assert "total" in before and "totalAmount" not in before
    assert "totalAmount" in after and "total" not in after


async def test_given_a_payment_and_a_credit_memo_when_read_then_they_apply_to_their_invoices(
    store: SandboxStore, timer: FakeTimer
) -> None:
    auth = Tba(ACME_KEYS, timer)
    async with client(_app(store, timer)) as http:
        payment = (await http.get(f"{REST}/record/v1/customerPayment/{_id('payment', 1)}",
                                  params={"expandSubResources": "true"}, auth=auth)).json()
        credit = (await http.get(f"{REST}/record/v1/creditMemo/{_id('credit_note', 1)}", auth=auth)).json()

    applied = payment["apply"]["items"][0]
    assert (applied["doc"]["id"], applied["refNum"], applied["amount"]) == (_id("invoice", 1), "INV-00001", 44.0)
    assert payment["paymentMethod"] == {"id": "2", "refName": "Check"}
    assert credit["createdFrom"]["id"] == _id("invoice", 1) and credit["createdFrom"]["refName"] == "INV-00001"
