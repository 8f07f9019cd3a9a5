"""The QuickBooks Online emulator, specified through its HTTP surface."""

from __future__ import annotations

import httpx
import pytest

from connectors.sandbox.emulators import EmulatorSettings, build_app, tenant_credentials
from connectors.sandbox.emulators.limits import LimitPolicy, Window
from connectors.sandbox.store import SandboxStore
from tests.sandbox.conftest import MAPLE, RHEIN, FakeTimer, client, visible_ids

pytestmark = pytest.mark.anyio

SETTINGS = EmulatorSettings()
CREDENTIALS = tenant_credentials("quickbooks", MAPLE, SETTINGS)
REALM = f"/v3/company/{CREDENTIALS['realm_id']}"
TOKENS = "/oauth2/v1/tokens/bearer"


async def _refresh(
    http: httpx.AsyncClient, refresh_token: str, credentials: dict[str, str] = CREDENTIALS
) -> httpx.Response:
    return await http.post(
        TOKENS,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(credentials["client_id"], credentials["client_secret"]),
        headers={"Accept": "application/json"},
    )


async def _bearer(http: httpx.AsyncClient) -> dict[str, str]:
    response = await _refresh(http, CREDENTIALS["refresh_token"])
    return {"Authorization": f"Bearer {response.json()['access_token']}", "Accept": "application/json"}


async def _query(http: httpx.AsyncClient, auth: dict[str, str], query: str) -> httpx.Response:
    return await http.get(f"{REALM}/query", params={"query": query, "minorversion": "75"}, headers=auth)


async def test_given_a_refresh_token_when_used_then_a_new_one_rotates_in_and_the_old_one_is_invalid_grant(
    store: SandboxStore,
) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        first = await _refresh(http, CREDENTIALS["refresh_token"])
        replayed = await _refresh(http, CREDENTIALS["refresh_token"])
        second = await _refresh(http, first.json()["refresh_token"])

    assert first.status_code == 200
    assert first.json()["token_type"] == "bearer" and first.json()["expires_in"] == 3600
    assert first.json()["refresh_token"] != CREDENTIALS["refresh_token"]
    assert replayed.status_code == 400 and replayed.json() == {"error": "invalid_grant"}
    assert second.status_code == 200


async def test_given_wrong_client_secret_when_refreshing_then_invalid_client(store: SandboxStore) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        response = await _refresh(http, CREDENTIALS["refresh_token"], {**CREDENTIALS, "client_secret": "nope"})

    assert response.status_code == 401 and response.json() == {"error": "invalid_client"}


async def test_given_an_access_token_past_its_ttl_when_querying_then_401_authentication_failed(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(token_ttl_seconds={"quickbooks": 60})
    async with client(build_app("quickbooks", store, settings, timer=timer)) as http:
        auth = await _bearer(http)
        fresh = await _query(http, auth, "select * from Customer")
        timer.advance(61)
        expired = await _query(http, auth, "select * from Customer")

    assert fresh.status_code == 200
    assert expired.status_code == 401
    error = expired.json()["fault"]["error"][0]
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert error["code"] == "3200" and error["detail"].startswith("Token expired")
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")


async def test_given_a_token_of_one_realm_when_calling_another_then_403_authorization_failed(
    store: SandboxStore,
) -> None:
    other_realm = tenant_credentials("quickbooks", RHEIN, SETTINGS)["realm_id"]
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        response = await http.get(
            f"/v3/company/{other_realm}/query", params={"query": "select * from Item"}, headers=auth
        )

    assert response.status_code == 403
    assert response.json()["fault"]["error"][0]["code"] == "3100"


async def test_given_startposition_paging_when_walking_invoices_then_each_arrives_once_and_deleted_ones_never(
    store: SandboxStore,
) -> None:
    seen: list[str] = []
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        start = 1
        while True:
            response = await _query(http, auth, f"SELECT * FROM Invoice STARTPOSITION {start} MAXRESULTS 4")
            page = response.json()["QueryResponse"].get("Invoice", [])
            seen += [invoice["Id"] for invoice in page]
            if len(page) < 4:
                break
            start += 4

    assert seen == visible_ids(store, "quickbooks", MAPLE, "invoice")
    assert len(seen) == 14 and "6" not in seen


async def test_given_last_updated_time_filter_when_querying_then_only_newer_versions_with_count_agreeing(
    store: SandboxStore,
) -> None:
    where = "where Metadata.LastUpdatedTime >= '2026-02-01T00:00:00-08:00' ORDER BY MetaData.LastUpdatedTime"
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        rows = (await _query(http, auth, f"select * from Invoice {where}")).json()["QueryResponse"]["Invoice"]
        count = (await _query(http, auth, f"select count(*) from Invoice {where}")).json()["QueryResponse"]

    assert [row["Id"] for row in rows] == ["4", "8"]  # the void and the late edit; the delete is gone
    assert count == {"totalCount": 2}
    assert all(row["MetaData"]["LastUpdatedTime"] >= "2026-02-01" for row in rows)


async def test_given_a_voided_invoice_when_read_then_it_looks_like_qbos_void(store: SandboxStore) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        response = await http.get(f"{REALM}/invoice/4", headers=auth)

    invoice = response.json()["Invoice"]
    assert (invoice["TotalAmt"], invoice["Balance"], invoice["PrivateNote"]) == (0, 0, "Voided")
    assert invoice["SyncToken"] == "1"
    assert all(line["Amount"] == 0 for line in invoice["Line"])
    assert invoice["TxnDate"] == "2026-01-09"  # issued 2026-01-09T23:00Z: still the 9th in New York
    assert invoice["MetaData"]["CreateTime"] == "2026-01-09T15:00:00-08:00"


async def test_given_malformed_queries_when_sent_then_qbo_validation_faults(store: SandboxStore) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        garbled = await _query(http, auth, "selec * from Invoice")
        unknown = await _query(http, auth, "select * from Unicorn")

    assert garbled.status_code == 400
    error = garbled.json()["Fault"]["Error"][0]
    assert garbled.json()["Fault"]["type"] == "ValidationFault"
    assert (error["Message"], error["code"]) == ("Error parsing query", "4000")
    assert error["Detail"].startswith("QueryParserError: Encountered")
    assert unknown.status_code == 400 and unknown.json()["Fault"]["Error"][0]["code"] == "4001"


async def test_given_maxresults_above_1000_when_querying_then_the_answer_is_capped(store: SandboxStore) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        response = await _query(http, auth, "select * from Invoice maxresults 5000")

    assert response.status_code == 200
    assert response.json()["QueryResponse"]["maxResults"] == 14


async def test_given_a_deleted_customer_when_querying_then_inactive_names_need_active_in_true_false(
    store: SandboxStore,
) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        default = (await _query(http, auth, "select * from Customer")).json()["QueryResponse"]["Customer"]
        everyone = (await _query(http, auth, "select * from Customer where Active IN (true, false)")).json()

    assert "4" not in [c["Id"] for c in default]
    inactive = [c for c in everyone["QueryResponse"]["Customer"] if c["Id"] == "4"]
    assert inactive and inactive[0]["Active"] is False


async def test_given_changes_since_a_date_when_cdc_is_asked_then_deleted_invoices_come_as_status_deleted(
    store: SandboxStore,
) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        await http.put("/_sandbox/clock", json={"now": "2026-02-20T00:00:00Z"})
        auth = await _bearer(http)
        response = await http.get(
            f"{REALM}/cdc",
            params={"entities": "Invoice,Customer", "changedSince": "2026-01-31T00:00:00-08:00"},
            headers=auth,
        )
        too_old = await http.get(
            f"{REALM}/cdc", params={"entities": "Invoice", "changedSince": "2025-12-01T00:00:00Z"}, headers=auth
        )

    invoices, customers = response.json()["CDCResponse"][0]["QueryResponse"]
    by_id = {invoice["Id"]: invoice for invoice in invoices["Invoice"]}
    assert by_id["6"] == {
        "domain": "QBO",
        "status": "Deleted",
        "Id": "6",
        "MetaData": {"LastUpdatedTime": "2026-02-05T15:00:00-08:00"},
    }
    assert list(by_id)[-1] == "6"  # deleted objects come after the changed ones
    assert by_id["4"]["PrivateNote"] == "Voided"
    assert customers == {}  # customer 4 turned inactive on 2026-01-25, before changedSince
    assert too_old.status_code == 400


async def test_given_the_per_minute_limit_when_exceeded_then_429_throttle_exceeded_with_retry_after(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(limits={"quickbooks": LimitPolicy(windows={"minute": Window(limit=3, seconds=60)})})
    async with client(build_app("quickbooks", store, settings, timer=timer)) as http:
        auth = await _bearer(http)
        admitted = [await _query(http, auth, "select * from Item") for _ in range(3)]
        timer.advance(20)
        refused = await _query(http, auth, "select * from Item")
        timer.advance(40)
        reopened = await _query(http, auth, "select * from Item")

    assert [r.status_code for r in admitted] == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"
    error = refused.json()["Fault"]["Error"][0]
    assert error["code"] == "3001" and "ThrottleExceeded" in error["Message"]
    assert reopened.status_code == 200


async def test_given_a_query_by_post_when_sent_as_text_then_it_is_answered_like_get(store: SandboxStore) -> None:
    async with client(build_app("quickbooks", store, SETTINGS)) as http:
        auth = await _bearer(http)
        response = await http.post(
            f"{REALM}/query", content="select * from Vendor", headers={**auth, "Content-Type": "application/text"}
        )

    assert [v["Id"] for v in response.json()["QueryResponse"]["Vendor"]] == ["1", "2"]
