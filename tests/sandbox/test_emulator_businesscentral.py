"""The Business Central API v2.0 emulator, specified through its HTTP surface."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from connectors.sandbox.config import DriftRule, FaultConfig
from connectors.sandbox.emulators import EmulatorSettings, build_app, tenant_credentials
from connectors.sandbox.emulators.limits import LimitPolicy, Window
from connectors.sandbox.model import Record, native_id
from connectors.sandbox.store import SandboxStore
from tests.sandbox.conftest import (
    INVOICE_FATES,
    T0,
    FakeTimer,
    client,
    document,
    is_json,
    party,
    payment,
    product,
    record,
    sandbox_store,
    tenant,
    visible_ids,
    with_revisions,
)

pytestmark = pytest.mark.anyio

BERLIN = tenant(
    "c00021",
    "Berliner Bau",
    "businesscentral",
    sector="manufacturing",
    region="EU",
    country="DE",
    currency="EUR",
    timezone="Europe/Berlin",
    locale="de_DE",
)
LISBON = tenant(
    "c00022",
    "Lisboa Lda",
    "businesscentral",
    sector="retail",
    region="EU",
    country="PT",
    currency="EUR",
    timezone="Europe/Lisbon",
    locale="pt_PT",
)
SETTINGS = EmulatorSettings()
KEYS = tenant_credentials("businesscentral", BERLIN, SETTINGS)
LISBON_KEYS = tenant_credentials("businesscentral", LISBON, SETTINGS)
SCOPE = "https://api.businesscentral.dynamics.com/.default"
ROOT = f"/v2.0/{KEYS['tenant_id']}/production/api/v2.0"
COMPANY = f"{ROOT}/companies({KEYS['company_id']})"


def _id(entity: str, serial: int) -> str:
    return native_id("businesscentral", BERLIN.company_id, entity, serial)


def _bc_records() -> Iterator[Record]:
    system = "businesscentral"
    for serial in range(1, 5):
        at = T0 + timedelta(hours=serial)
        body = party(f"Kunde{serial} GmbH", "EUR")
        first = record(system, BERLIN, "customer", serial, at, body)
        yield from with_revisions(first, serial, at + timedelta(days=9), deleted=[3])
    for serial in range(1, 3):
        yield record(system, BERLIN, "vendor", serial, T0, party(f"Lieferant{serial} AG", "EUR"))
    for serial in range(1, 4):
        yield record(system, BERLIN, "product", serial, T0, product(serial))
    for serial in range(1, 11):
        at = T0 + timedelta(days=serial, hours=8)
        due = (at + timedelta(days=30)).date().isoformat()
        body = document(system, BERLIN, f"INV-{serial:04d}", serial % 4 + 1, at, [1.0, 3.0], "open", due_on=due)
        later = at + timedelta(days=25)
        first = record(system, BERLIN, "invoice", serial, at, body)
        yield from with_revisions(first, serial, later, changes=INVOICE_FATES, deleted=[6])
    fates = {2: {"status": "fulfilled"}, 3: {"status": "cancelled"}}
    for serial in range(1, 4):
        at = T0 + timedelta(days=serial)
        body = document(system, BERLIN, f"SO-{serial:04d}", 1, at, [2.0], "open")
        first = record(system, BERLIN, "sales_order", serial, at, body)
        yield from with_revisions(first, serial, at + timedelta(days=3), changes=fates)
    for serial, status in ((1, "open"), (2, "cancelled"), (3, "received")):
        at = T0 + timedelta(days=serial)
        order = document(system, BERLIN, f"PO-{serial:04d}", 1, at, [4.0], status, party_id=_id("vendor", 1))
        yield record(system, BERLIN, "purchase_order", serial, at, order)
    at = T0 + timedelta(days=9)
    memo = document(system, BERLIN, "CM-0001", 2, at, [1.0], "open", applies_to=_id("invoice", 1))
    yield record(system, BERLIN, "credit_note", 1, at, memo)
    for serial in range(1, 3):
        at = T0 + timedelta(days=serial + 3)
        body = payment(
            _id("customer", 2), _id("invoice", serial), at, amount=20.0, currency="EUR", method="bank transfer"
        )
        yield record(system, BERLIN, "payment", serial, at, body)
    yield record(system, LISBON, "customer", 1, T0, party("Cliente1 Lda", "EUR"))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox_store(tmp_path_factory, [BERLIN, LISBON], _bc_records())


async def _token(http: httpx.AsyncClient, keys: dict[str, str] = KEYS, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": keys["client_id"],
        "client_secret": keys["client_secret"],
        "scope": SCOPE,
        **overrides,
    }
    return await http.post(f"/{keys['tenant_id']}/oauth2/v2.0/token", data=form)


async def _auth(http: httpx.AsyncClient, keys: dict[str, str] = KEYS) -> dict[str, str]:
    return {"Authorization": f"Bearer {(await _token(http, keys)).json()['access_token']}"}


async def _walk(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[list[dict]]:
    pages = []
    next_url: str | None = url
    while next_url:
        body = (await http.get(next_url, headers=headers)).json()
        pages.append(body["value"])
        next_url = body.get("@odata.nextLink")
    return pages


# -- auth ---------------------------------------------------------------------------------------------------


async def test_given_client_credentials_when_asking_entra_then_a_bearer_token_and_aadsts_errors_otherwise(
    store: SandboxStore,
) -> None:
    async with client(build_app("businesscentral", store, SETTINGS)) as http:
        granted = await _token(http)
        wrong_secret = await _token(http, client_secret="guessed")
        wrong_scope = await _token(http, scope="https://graph.microsoft.com/.default")
        unknown_tenant = await http.post(
            "/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": KEYS["client_id"],
                "client_secret": KEYS["client_secret"],
                "scope": SCOPE,
            },
        )

    assert granted.status_code == 200
    assert (granted.json()["token_type"], granted.json()["expires_in"]) == ("Bearer", 3599)
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert wrong_secret.json()["error_codes"] == [7000215]
    assert wrong_secret.json()["error_description"].startswith("AADSTS7000215: ")
    assert wrong_scope.status_code == 400 and wrong_scope.json()["error"] == "invalid_scope"
    assert unknown_tenant.status_code == 400 and unknown_tenant.json()["error_codes"] == [90002]


async def test_given_an_expired_or_foreign_token_when_calling_then_401_with_bcs_error_body(
    store: SandboxStore, timer: FakeTimer
) -> None:
    async with client(build_app("businesscentral", store, SETTINGS, timer=timer)) as http:
        auth, foreign = await _auth(http), await _auth(http, LISBON_KEYS)
        fresh = await http.get(f"{COMPANY}/customers", headers=auth)
        elsewhere = await http.get(f"{COMPANY}/customers", headers=foreign)
        timer.advance(3600)
        expired = await http.get(f"{COMPANY}/customers", headers=auth)

    assert fresh.status_code == 200
    for refused in (elsewhere, expired):
        assert refused.status_code == 401
        error = refused.json()["error"]
        assert error["code"] == "Authentication_InvalidCredentials"
        assert error["message"].startswith("The server has rejected the client credentials.  CorrelationId:  ")
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


async def test_given_a_wrong_environment_company_or_entity_set_when_calling_then_404(store: SandboxStore) -> None:
    async with client(build_app("businesscentral", store, SETTINGS)) as http:
        auth = await _auth(http)
        environment = await http.get(f"/v2.0/{KEYS['tenant_id']}/sandbox/api/v2.0/companies", headers=auth)
        company = await http.get(f"{ROOT}/companies({LISBON_KEYS['company_id']})/items", headers=auth)
        entity_set = await http.get(f"{COMPANY}/unicorns", headers=auth)
        companies = (await http.get(f"{ROOT}/companies", headers=auth)).json()

    assert [r.status_code for r in (environment, company, entity_set)] == [404, 404, 404]
    assert entity_set.json()["error"]["code"] == "BadRequest_ResourceNotFound"
    assert [(c["id"], c["name"]) for c in companies["value"]] == [(KEYS["company_id"], "Berliner Bau")]
    assert companies["@odata.context"].endswith(f"{ROOT}/$metadata#companies")


# -- listing ------------------------------------------------------------------------------------------------


async def test_given_a_max_page_size_when_following_next_links_then_each_invoice_arrives_once(
    store: SandboxStore,
) -> None:
    async with client(build_app("businesscentral", store, SETTINGS)) as http:
        headers = {**await _auth(http), "Prefer": "odata.maxpagesize=3"}
        pages = await _walk(http, f"{COMPANY}/salesInvoices", headers)
        first = await http.get(f"{COMPANY}/salesInvoices", headers=headers)

    assert [len(page) for page in pages] == [3, 3, 3]
    assert [row["id"] for page in pages for row in page] == visible_ids(store, "businesscentral", BERLIN, "invoice")
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=3"
    assert first.json()["@odata.context"].endswith(f"$metadata#companies({KEYS['company_id']})/salesInvoices")
    assert "$skiptoken=" in first.json()["@odata.nextLink"]
    assert all(row["@odata.etag"].startswith('W/"J') for page in pages for row in page)


async def test_given_a_last_modified_filter_when_listing_then_only_later_versions_and_no_tombstones(
    store: SandboxStore,
) -> None:
    async with client(build_app("businesscentral", store, SETTINGS)) as http:
        auth = await _auth(http)
        later = await http.get(
            f"{COMPANY}/salesInvoices", params={"$filter": "lastModifiedDateTime gt 2026-02-01T00:00:00Z"}, headers=auth
        )
        window = await http.get(
            f"{COMPANY}/salesInvoices",
            params={
                "$filter": "lastModifiedDateTime ge 2026-01-08T23:00:00Z and lastModifiedDateTime lt "
                "2026-01-11T00:00:00Z"
            },
            headers=auth,
        )
        garbled = await http.get(f"{COMPANY}/salesInvoices", params={"$filter": "total gt 5"}, headers=auth)
        ordered = await http.get(f"{COMPANY}/salesInvoices", params={"$orderby": "number"}, headers=auth)

    assert [(row["number"], row["status"]) for row in later.json()["value"]] == [
        ("INV-0004", "Canceled"),
        ("INV-0008", "Paid"),  # INV-0006 was deleted: BC keeps no tombstone
    ]
    assert all(row["lastModifiedDateTime"] > "2026-02-01" for row in later.json()["value"])
    assert [row["number"] for row in window.json()["value"]] == ["INV-0003", "INV-0005"]  # INV-0004 moved on
    assert garbled.status_code == 400 and garbled.json()["error"]["code"] == "BadRequest"
    assert ordered.status_code == 400 and "$orderby" in ordered.json()["error"]["message"]


async def test_given_top_smaller_than_the_collection_when_paging_then_top_caps_the_total_across_pages(
    store: SandboxStore,
) -> None:
    async with client(build_app("businesscentral", store, SETTINGS)) as http:
        headers = {**await _auth(http), "Prefer": "odata.maxpagesize=2"}
        pages = await _walk(http, f"{COMPANY}/salesInvoices?$top=5", headers)
        skipped = (await http.get(f"{COMPANY}/salesInvoices", params={"$skip": "8"}, headers=headers)).json()

    expected = visible_ids(store, "businesscentral", BERLIN, "invoice")
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [row["id"] for page in pages for row in page] == expected[:5]
    assert [row["id"] for row in skipped["value"]] == expected[8:] and "@odata.nextLink" not in skipped


async def test_given_an_invoice_when_read_expanded_or_through_its_lines_then_the_lines_agree(
    store: SandboxStore,
) -> None:
    invoice_id = _id("invoice", 1)
    async with client(build_app("businesscentral", store, SETTINGS)) as http:
        auth = await _auth(http)
        single = (await http.get(f"{COMPANY}/salesInvoices({invoice_id})", headers=auth)).json()
        expanded = (
            await http.get(
                f"{COMPANY}/salesInvoices", params={"$expand": "salesInvoiceLines", "$top": "1"}, headers=auth
            )
        ).json()
        lines = (await http.get(f"{COMPANY}/salesInvoices({invoice_id})/salesInvoiceLines", headers=auth)).json()
        selected = (
            await http.get(
                f"{COMPANY}/salesInvoices({invoice_id})",
                params={"$select": "number,totalAmountIncludingTax"},
                headers=auth,
            )
        ).json()
        missing = await http.get(f"{COMPANY}/salesInvoices({_id('invoice', 6)})", headers=auth)
        bad_expand = await http.get(f"{COMPANY}/customers", params={"$expand": "salesInvoiceLines"}, headers=auth)

    assert single["@odata.context"].endswith("/salesInvoices/$entity")
    # issued 2026-01-06T23:00Z: already the 7th in Berlin
    assert (single["invoiceDate"], single["lastModifiedDateTime"]) == ("2026-01-07", "2026-01-06T23:00:00Z")
    assert single["customerName"] == "Kunde2 GmbH" and single["remainingAmount"] == 77.0
    assert expanded["value"][0]["salesInvoiceLines"] == lines["value"]
    assert [(line["documentId"], line["sequence"], line["lineObjectNumber"]) for line in lines["value"]] == [
        (invoice_id, 10_000, "SKU-1"),
        (invoice_id, 20_000, "SKU-2"),
    ]
    assert set(selected) == {"@odata.context", "@odata.etag", "number", "totalAmountIncludingTax"}
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Internal_RecordNotFound"
    assert bad_expand.status_code == 400


async def test_given_cancelled_and_completed_orders_when_listing_then_bc_shows_them_its_own_way(
    store: SandboxStore,
) -> None:
    async with client(build_app("businesscentral", store, SETTINGS)) as http:
        auth = await _auth(http)
        sales = (await http.get(f"{COMPANY}/salesOrders", headers=auth)).json()["value"]
        purchases = (await http.get(f"{COMPANY}/purchaseOrders", headers=auth)).json()["value"]
        memo = (await http.get(f"{COMPANY}/salesCreditMemos", headers=auth)).json()["value"][0]
        payment = (await http.get(f"{COMPANY}/customerPayments", headers=auth)).json()["value"][0]
        customers = (await http.get(f"{COMPANY}/customers", headers=auth)).json()["value"]

    assert [(o["number"], o["status"], o["fullyShipped"]) for o in sales] == [
        ("SO-0001", "Open", False),
        ("SO-0002", "Released", True),  # SO-0003 was cancelled: BC deletes it
    ]
    assert [(o["number"], o["status"]) for o in purchases] == [("PO-0001", "Open"), ("PO-0003", "Released")]
    assert purchases[0]["vendorName"] == "Lieferant1 AG"
    assert (memo["invoiceId"], memo["invoiceNumber"]) == (_id("invoice", 1), "INV-0001")
    assert (payment["appliesToInvoiceNumber"], payment["amount"]) == ("INV-0001", 20.0)
    assert _id("customer", 3) not in {c["id"] for c in customers}


# -- limits, faults, drift ----------------------------------------------------------------------------------


async def test_given_the_five_minute_limit_when_exceeded_then_429_too_many_requests_with_retry_after(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(limits={"businesscentral": LimitPolicy(windows={"5min": Window(limit=2, seconds=300)})})
    async with client(build_app("businesscentral", store, settings, timer=timer)) as http:
        auth = await _auth(http)
        admitted = [await http.get(f"{COMPANY}/items", headers=auth) for _ in range(2)]
        timer.advance(100)
        refused = await http.get(f"{COMPANY}/items", headers=auth)
        timer.advance(200)
        reopened = await http.get(f"{COMPANY}/items", headers=auth)

    assert [r.status_code for r in admitted] == [200, 200]
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "200"
    assert refused.json()["error"]["code"] == "Application_TooManyRequests"
    assert reopened.status_code == 200


@pytest.mark.parametrize(
    ("faults", "expect"),
    [
        (
            FaultConfig(error_rate=1.0),
            lambda r: r.status_code >= 500 and r.json()["error"]["code"] == "Internal_ServerError",
        ),
        (FaultConfig(throttle_rate=1.0), lambda r: r.status_code == 429 and int(r.headers["Retry-After"]) >= 1),
        (FaultConfig(truncate_rate=1.0), lambda r: r.status_code == 200 and not is_json(r.content)),
    ],
)
async def test_given_a_fault_rate_of_one_when_listing_then_the_fault_answers_in_bcs_shape(
    store: SandboxStore, faults: FaultConfig, expect
) -> None:
    settings = EmulatorSettings(faults={"businesscentral": faults})
    async with client(build_app("businesscentral", store, settings)) as http:
        response = await http.get(f"{COMPANY}/customers", headers=await _auth(http))

    assert expect(response)


async def test_given_a_rename_drift_when_listing_then_only_versions_from_its_date_carry_the_new_name(
    store: SandboxStore,
) -> None:
    rule = DriftRule(
        system="businesscentral",
        entity="invoice",
        on=date(2026, 2, 1),
        kind="rename",
        field="totalAmountIncludingTax",
        to="totalAmountInclTax",
    )
    async with client(build_app("businesscentral", store, EmulatorSettings(drift=[rule]))) as http:
        rows = (await http.get(f"{COMPANY}/salesInvoices", headers=await _auth(http))).json()["value"]

    assert {row["number"] for row in rows if "totalAmountInclTax" in row} == {"INV-0004", "INV-0008"}
    assert all(("totalAmountIncludingTax" in row) != ("totalAmountInclTax" in row) for row in rows)

