"""The Xero Accounting API emulator, specified through its HTTP surface."""

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

KIWI = tenant(
    "c00011",
    "Kiwi Outfitters",
    "xero",
    sector="retail",
    region="APAC",
    country="NZ",
    currency="NZD",
    timezone="Pacific/Auckland",
    locale="en_NZ",
)
TASMAN = tenant(
    "c00012",
    "Tasman Timber",
    "xero",
    sector="manufacturing",
    region="APAC",
    country="AU",
    currency="AUD",
    timezone="Australia/Sydney",
    locale="en_AU",
)
SETTINGS = EmulatorSettings()
KIWI_KEYS = tenant_credentials("xero", KIWI, SETTINGS)
TASMAN_KEYS = tenant_credentials("xero", TASMAN, SETTINGS)
API = "/api.xro/2.0"


def _id(entity: str, serial: int) -> str:
    return native_id("xero", KIWI.company_id, entity, serial)


def _xero_records() -> Iterator[Record]:
    for serial in range(1, 6):
        at = T0 + timedelta(hours=serial)
        body = party(f"Client{serial} Ltd", "NZD")
        first = record("xero", KIWI, "customer", serial, at, body)
        yield from with_revisions(first, serial, at + timedelta(days=30), deleted=[4])
    for serial in range(1, 3):
        yield record("xero", KIWI, "vendor", serial, T0, party(f"Supplier{serial} Pty", "NZD"))
    for serial in range(1, 4):
        body = product(serial, taxable=serial != 2)
        first = record("xero", KIWI, "product", serial, T0, body)
        yield from with_revisions(first, serial, T0 + timedelta(days=10), deleted=[3])
    for serial in range(1, 13):
        at = T0 + timedelta(days=serial, hours=8)
        due = (at + timedelta(days=30)).date().isoformat()
        body = document("xero", KIWI, f"INV-{serial:04d}", serial % 5 + 1, at, [1.0, 3.0], "open", due_on=due)
        later = at + timedelta(days=25)
        first = record("xero", KIWI, "invoice", serial, at, body)
        yield from with_revisions(first, serial, later, changes=INVOICE_FATES, deleted=[6])
    for serial in range(1, 4):
        at = T0 + timedelta(days=serial + 3)
        body = payment(_id("customer", 1), _id("invoice", serial), at, amount=20.0, currency="NZD", method="card")
        yield record("xero", KIWI, "payment", serial, at, body)
    at = T0 + timedelta(days=9)
    note = document("xero", KIWI, "CN-0001", 1, at, [1.0], "open", applies_to=_id("invoice", 1))
    yield record("xero", KIWI, "credit_note", 1, at, note)
    for serial, status in ((1, "open"), (2, "cancelled")):
        at = T0 + timedelta(days=serial)
        order = document("xero", KIWI, f"PO-{serial:04d}", 1, at, [4.0], status, party_id=_id("vendor", 1))
        yield record("xero", KIWI, "purchase_order", serial, at, order)
    for serial in range(1, 3):
        yield record("xero", TASMAN, "customer", serial, T0, party(f"Mate{serial} Pty", "AUD"))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox_store(tmp_path_factory, [KIWI, TASMAN], _xero_records())


async def _refresh(
    http: httpx.AsyncClient, refresh_token: str, secret: str = KIWI_KEYS["client_secret"]
) -> httpx.Response:
    return await http.post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(KIWI_KEYS["client_id"], secret),
    )


async def _headers(http: httpx.AsyncClient, keys: dict[str, str] = KIWI_KEYS) -> dict[str, str]:
    token = (await _refresh(http, keys["refresh_token"])).json()["access_token"]
    return {"Authorization": f"Bearer {token}", "Xero-tenant-id": keys["tenant_id"], "Accept": "application/json"}


async def _walk(http: httpx.AsyncClient, auth: dict[str, str], resource: str, size: int, **params: str) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        response = await http.get(f"{API}/{resource}", params={"page": page, "pageSize": size, **params}, headers=auth)
        batch = response.json()[resource]
        rows += batch
        if len(batch) < size:
            return rows
        page += 1


# -- auth ---------------------------------------------------------------------------------------------------


async def test_given_a_refresh_token_when_used_then_a_new_one_rotates_in_and_the_old_one_is_invalid_grant(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        first = await _refresh(http, KIWI_KEYS["refresh_token"])
        replayed = await _refresh(http, KIWI_KEYS["refresh_token"])
        second = await _refresh(http, first.json()["refresh_token"])
        wrong_secret = await _refresh(http, second.json()["refresh_token"], secret="guessed")

    assert first.status_code == 200
    assert (first.json()["token_type"], first.json()["expires_in"]) == ("Bearer", 1800)
    assert replayed.status_code == 400 and replayed.json() == {"error": "invalid_grant"}
    assert second.status_code == 200
    assert wrong_secret.status_code == 400 and wrong_secret.json() == {"error": "invalid_client"}


async def test_given_an_access_token_past_its_ttl_when_listing_then_401_token_expired(
    store: SandboxStore, timer: FakeTimer
) -> None:
    async with client(build_app("xero", store, SETTINGS, timer=timer)) as http:
        auth = await _headers(http)
        fresh = await http.get(f"{API}/Items", headers=auth)
        timer.advance(1801)
        expired = await http.get(f"{API}/Items", headers=auth)
        forged = await http.get(f"{API}/Items", headers={**auth, "Authorization": "Bearer forged"})

    assert fresh.status_code == 200
    assert expired.status_code == 401
    assert expired.json()["Title"] == "Unauthorized" and expired.json()["Detail"].startswith("TokenExpired: ")
    assert forged.status_code == 401 and forged.json()["Detail"] == "AuthenticationUnsuccessful"


async def test_given_a_token_of_one_organisation_when_naming_another_tenant_then_403(store: SandboxStore) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = await _headers(http)
        other = await http.get(f"{API}/Contacts", headers={**auth, "Xero-tenant-id": TASMAN_KEYS["tenant_id"]})
        missing = await http.get(f"{API}/Contacts", headers={k: v for k, v in auth.items() if k != "Xero-tenant-id"})
        connections = await http.get("/connections", headers={"Authorization": auth["Authorization"]})

    assert other.status_code == 403
    assert other.json()["Title"] == "Forbidden" and other.json()["Detail"] == "AuthenticationUnsuccessful"
    assert missing.status_code == 403
    assert [c["tenantId"] for c in connections.json()] == [KIWI_KEYS["tenant_id"]]
    assert connections.json()[0]["tenantType"] == "ORGANISATION"


async def test_given_no_json_accept_header_when_listing_then_406_since_xero_would_answer_xml(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = await _headers(http)
        response = await http.get(f"{API}/Invoices", headers={**auth, "Accept": "application/xml"})

    assert response.status_code == 406


# -- listing ------------------------------------------------------------------------------------------------


async def test_given_page_and_page_size_when_walking_invoices_then_each_arrives_once_with_pagination(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = await _headers(http)
        rows = await _walk(http, auth, "Invoices", 5)
        second = (await http.get(f"{API}/Invoices", params={"page": 2, "pageSize": 5}, headers=auth)).json()
        beyond = (await http.get(f"{API}/Invoices", params={"page": 9, "pageSize": 5}, headers=auth)).json()

    assert [row["InvoiceID"] for row in rows] == visible_ids(store, "xero", KIWI, "invoice", keep=lambda r: True)
    assert second["pagination"] == {"page": 2, "pageSize": 5, "pageCount": 3, "itemCount": 12}
    assert (second["Status"], second["ProviderName"]) == ("OK", "Groundswell Sandbox")
    assert second["DateTimeUTC"].startswith("/Date(") and all(row["LineItems"] for row in second["Invoices"])
    assert beyond["Invoices"] == []


async def test_given_no_page_when_listing_invoices_then_all_come_back_without_line_items_or_pagination(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = await _headers(http)
        body = (await http.get(f"{API}/Invoices", headers=auth)).json()
        items = (await http.get(f"{API}/Items", params={"page": 1}, headers=auth)).json()

    assert len(body["Invoices"]) == 12 and "pagination" not in body
    assert all("LineItems" not in row for row in body["Invoices"])
    assert sorted(item["Code"] for item in items["Items"]) == ["SKU-1", "SKU-2"]  # SKU-3 was deleted: gone
    assert "pagination" not in items  # Items are never paged


async def test_given_if_modified_since_when_listing_then_only_later_versions_with_voids_and_deletes_shown(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = {**await _headers(http), "If-Modified-Since": "2026-02-01T00:00:00"}
        invoices = (await http.get(f"{API}/Invoices", params={"page": 1}, headers=auth)).json()["Invoices"]
        contacts = (await http.get(f"{API}/Contacts", headers=auth)).json()["Contacts"]
        archived = (await http.get(f"{API}/Contacts", params={"includeArchived": "true"}, headers=auth)).json()
        http_date = {**auth, "If-Modified-Since": "Sun, 01 Feb 2026 00:00:00 GMT"}
        same = (await http.get(f"{API}/Invoices", params={"page": 1}, headers=http_date)).json()["Invoices"]

    statuses = {row["InvoiceNumber"]: row["Status"] for row in invoices}
    assert statuses == {"INV-0004": "VOIDED", "INV-0006": "DELETED", "INV-0008": "PAID"}
    voided = next(row for row in invoices if row["Status"] == "VOIDED")
    assert (voided["Total"], voided["AmountDue"]) == (77.0, 0.0)  # Xero keeps a voided invoice's totals
    assert contacts == []
    assert [(c["ContactID"], c["ContactStatus"]) for c in archived["Contacts"]] == [(_id("customer", 4), "ARCHIVED")]
    assert same == invoices


async def test_given_customers_and_vendors_when_walking_contacts_then_both_arrive_once_marked_by_role(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = await _headers(http)
        rows = await _walk(http, auth, "Contacts", 2)

    vendors = {_id("vendor", 1), _id("vendor", 2)}
    assert sorted(row["ContactID"] for row in rows) == sorted(vendors | {_id("customer", n) for n in (1, 2, 3, 5)})
    assert all(row["IsSupplier"] == (row["ContactID"] in vendors) != row["IsCustomer"] for row in rows)


async def test_given_where_statuses_and_order_when_listing_then_the_subset_filters_and_the_rest_is_refused(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = await _headers(http)

        async def invoices(**params: str) -> httpx.Response:
            return await http.get(f"{API}/Invoices", params={"page": 1, **params}, headers=auth)

        voided = await invoices(where='Status=="VOIDED" AND Type=="ACCREC"', order="UpdatedDateUTC ASC")
        dated = await invoices(where="Date>=DateTime(2026,01,15) && Date<DateTime(2026,01,17)")
        by_contact = await invoices(where=f'Contact.ContactID==Guid("{_id("customer", 2).upper()}")')
        paid = await invoices(Statuses="PAID,DRAFT")
        garbled = await invoices(where="Status=VOIDED")
        reordered = await invoices(order="Date DESC")

    assert [row["InvoiceNumber"] for row in voided.json()["Invoices"]] == ["INV-0004"]
    assert voided.json()["pagination"]["itemCount"] == 1
    assert [row["DateString"] for row in dated.json()["Invoices"]] == ["2026-01-15T00:00:00", "2026-01-16T00:00:00"]
    assert [row["InvoiceNumber"] for row in by_contact.json()["Invoices"]] == ["INV-0001", "INV-0011", "INV-0006"]
    assert [row["InvoiceNumber"] for row in paid.json()["Invoices"]] == ["INV-0008"]
    assert garbled.status_code == 400 and garbled.json()["Type"] == "QueryParseException"
    assert reordered.status_code == 400 and reordered.json()["ErrorNumber"] == 16


async def test_given_an_invoice_when_read_then_dates_are_local_midnights_in_xero_form_and_links_resolve(
    store: SandboxStore,
) -> None:
    async with client(build_app("xero", store, SETTINGS)) as http:
        auth = await _headers(http)
        invoice = (await http.get(f"{API}/Invoices/{_id('invoice', 1)}", headers=auth)).json()["Invoices"][0]
        payment = (await http.get(f"{API}/Payments", params={"page": 1}, headers=auth)).json()["Payments"][0]
        orders = (await http.get(f"{API}/PurchaseOrders", params={"status": "DELETED"}, headers=auth)).json()
        unknown = await http.get(f"{API}/Invoices/{_id('invoice', 99)}", headers=auth)

    # issued 2026-01-06T23:00Z: already the 7th in Auckland
    assert (invoice["DateString"], invoice["Date"]) == ("2026-01-07T00:00:00", "/Date(1767744000000+0000)/")
    assert invoice["UpdatedDateUTC"] == "/Date(1767740400000+0000)/"
    assert invoice["Contact"] == {"ContactID": _id("customer", 2), "Name": "Client2 Ltd"}
    assert invoice["LineItems"][1]["Item"] == {"ItemID": _id("product", 2), "Code": "SKU-2"}
    assert payment["Invoice"]["InvoiceNumber"] == "INV-0001" and payment["PaymentType"] == "ACCRECPAYMENT"
    assert [o["PurchaseOrderNumber"] for o in orders["PurchaseOrders"]] == ["PO-0002"]  # cancelled: DELETED
    assert unknown.status_code == 404 and unknown.text == "The resource you're looking for cannot be found"


# -- limits, faults, drift ----------------------------------------------------------------------------------


async def test_given_the_minute_limit_when_exceeded_then_429_with_retry_after_and_the_problem_named(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(
        limits={
            "xero": LimitPolicy(
                windows={"minute": Window(limit=2, seconds=60), "day": Window(limit=5000, seconds=86_400)}
            )
        }
    )
    async with client(build_app("xero", store, settings, timer=timer)) as http:
        auth, other = await _headers(http), await _headers(http, TASMAN_KEYS)
        admitted = [await http.get(f"{API}/Items", headers=auth) for _ in range(2)]
        timer.advance(15)
        refused = await http.get(f"{API}/Items", headers=auth)
        neighbour = await http.get(f"{API}/Contacts", headers=other)

    assert admitted[1].headers["X-MinLimit-Remaining"] == "0"
    assert admitted[1].headers["X-DayLimit-Remaining"] == "4998"
    assert refused.status_code == 429
    assert (refused.headers["Retry-After"], refused.headers["X-Rate-Limit-Problem"]) == ("45", "minute")
    assert refused.json()["Title"] == "Too Many Requests"
    assert neighbour.status_code == 200  # the minute limit is per organisation...
    assert int(neighbour.headers["X-AppMinLimit-Remaining"]) == 10_000 - 4  # ...the app limit is not


@pytest.mark.parametrize(
    ("faults", "expect"),
    [
        (
            FaultConfig(error_rate=1.0),
            lambda r: r.status_code in (500, 502, 503) and r.json()["Status"] == r.status_code,
        ),
        (FaultConfig(throttle_rate=1.0), lambda r: r.status_code == 429 and int(r.headers["Retry-After"]) >= 1),
        (FaultConfig(truncate_rate=1.0), lambda r: r.status_code == 200 and not is_json(r.content)),
    ],
)
async def test_given_a_fault_rate_of_one_when_listing_then_the_fault_answers_in_xeros_shape(
    store: SandboxStore, faults: FaultConfig, expect
) -> None:
    async with client(build_app("xero", store, EmulatorSettings(faults={"xero": faults}))) as http:
        response = await http.get(f"{API}/Contacts", headers=await _headers(http))

    assert expect(response)


async def test_given_a_rename_drift_when_listing_then_only_versions_from_its_date_carry_the_new_name(
    store: SandboxStore,
) -> None:
    rule = DriftRule(
        system="xero", entity="invoice", on=date(2026, 2, 1), kind="rename", field="Total", to="TotalAmount"
    )
    async with client(build_app("xero", store, EmulatorSettings(drift=[rule]))) as http:
        rows = (await http.get(f"{API}/Invoices", headers=await _headers(http))).json()["Invoices"]

    drifted = {row["InvoiceNumber"] for row in rows if "TotalAmount" in row}
    assert drifted == {"INV-0004", "INV-0006", "INV-0008"}  # the versions written after 2026-02-01
    assert all(("Total" in row) != ("TotalAmount" in row) for row in rows)

