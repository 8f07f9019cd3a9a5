"""The emulator framework: drift, limits, faults, auth helpers, the admin surface, serving over uvicorn."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone

import anyio
import httpx
import orjson
import pytest
import uvicorn
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from connectors.sandbox.config import DriftRule, FaultConfig
from connectors.sandbox.emulators import EmulatorSettings, build_app, build_sandbox_app, tenant_credentials
from connectors.sandbox.emulators.auth import OAuth1Error, OAuth1Verifier
from connectors.sandbox.emulators.drift import apply_drift
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy, RateLimiter, Window
from connectors.sandbox.emulators.wire import local_time, money_text, zone
from connectors.sandbox.store import SandboxStore
from tests.sandbox.conftest import MAPLE, RHEIN, FakeTimer, client

SHOP = tenant_credentials("shopify", MAPLE, EmulatorSettings())
CUSTOMERS = f"/shops/{SHOP['shop']}/admin/api/2025-07/customers.json"
AUTH = {"X-Shopify-Access-Token": SHOP["access_token"]}
ON = date(2026, 2, 1)
BEFORE, AFTER = datetime(2026, 1, 31, 23, 59, tzinfo=timezone.utc), datetime(2026, 2, 1, 0, 0, tzinfo=timezone.utc)


def _rule(kind: str, field: str, to: str) -> DriftRule:
    return DriftRule(system="quickbooks", entity="invoice", on=ON, kind=kind, field=field, to=to)  # type: ignore[arg-type]


def _invoice() -> dict:
    return {"TotalAmt": 12.5, "Line": [{"Amount": 10.0}, {"Amount": 2.5}], "Active": "true"}


# -- drift ------------------------------------------------------------------------------------------


def test_given_a_rename_rule_when_a_version_predates_it_then_the_payload_is_unchanged() -> None:
    assert apply_drift(_invoice(), [_rule("rename", "TotalAmt", "TotalAmount")], BEFORE) == _invoice()


def test_given_a_rename_rule_when_a_version_is_on_its_date_then_the_field_moves() -> None:
    drifted = apply_drift(_invoice(), [_rule("rename", "TotalAmt", "TotalAmount")], AFTER)
    assert drifted["TotalAmount"] == 12.5 and "TotalAmt" not in drifted


def test_given_a_retype_rule_on_a_path_through_a_list_when_applied_then_every_element_is_retyped() -> None:
    drifted = apply_drift(_invoice(), [_rule("retype", "Line.Amount", "string")], AFTER)
    assert [line["Amount"] for line in drifted["Line"]] == ["10.0", "2.5"]


def test_given_an_add_rule_when_applied_then_a_sibling_field_carries_the_value() -> None:
    drifted = apply_drift(_invoice(), [_rule("add", "TotalAmt", "HomeTotalAmt")], AFTER)
    assert drifted["HomeTotalAmt"] == drifted["TotalAmt"] == 12.5


def test_given_an_add_rule_for_a_field_not_yet_in_the_payload_when_applied_then_the_field_appears() -> None:
    drifted = apply_drift(_invoice(), [_rule("add", "ProjectRef", "ProjectRef")], AFTER)
    assert drifted == {**_invoice(), "ProjectRef": ""}


def test_given_a_drift_rule_for_an_entity_the_system_lacks_when_settings_load_then_it_fails_naming_it() -> None:
    with pytest.raises(ValueError, match="entity 'sales_order' is not one quickbooks holds"):
        EmulatorSettings(
            drift=[DriftRule(system="quickbooks", entity="sales_order", on=ON, kind="add", field="TotalAmt", to="X")]
        )


# -- limits -----------------------------------------------------------------------------------------


def test_given_xero_like_windows_when_the_minute_runs_out_then_headers_name_the_problem_and_the_wait() -> None:
    timer = FakeTimer()
    limiter = RateLimiter(
        LimitPolicy(windows={"minute": Window(limit=2, seconds=60), "day": Window(limit=5000, seconds=86400)}),
        LimitHeaders(
            remaining={"minute": "X-MinLimit-Remaining", "day": "X-DayLimit-Remaining"}, problem="X-Rate-Limit-Problem"
        ),
        timer,
    )
    first = limiter.acquire("t1")
    limiter.release("t1")
    limiter.acquire("t1")
    limiter.release("t1")
    timer.advance(15)
    refused = limiter.acquire("t1")

    assert first.headers == {"X-MinLimit-Remaining": "1", "X-DayLimit-Remaining": "4999"}
    assert not refused.allowed
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["Retry-After"] == "45"
    assert limiter.acquire("t2").allowed  # limits are per tenant


def test_given_a_concurrency_cap_when_requests_overlap_then_the_extra_one_is_refused_until_one_ends() -> None:
    limiter = RateLimiter(LimitPolicy(concurrent=2), LimitHeaders(problem="X-Rate-Limit-Problem"), FakeTimer())
    assert limiter.acquire("t").allowed and limiter.acquire("t").allowed
    refused = limiter.acquire("t")
    limiter.release("t")

    assert refused.problem == "concurrent" and refused.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert limiter.acquire("t").allowed


def test_given_a_partial_override_when_merged_then_only_the_fields_given_change() -> None:
    merged = LimitPolicy(bucket_size=40, leak_per_second=2.0).overridden_by(LimitPolicy(bucket_size=5))
    assert (merged.bucket_size, merged.leak_per_second) == (5, 2.0)


# -- faults -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_given_fault_rates_when_hundreds_of_requests_arrive_then_each_fault_fires_at_its_rate(
    store: SandboxStore,
) -> None:
    faults = FaultConfig(error_rate=0.1, throttle_rate=0.1, truncate_rate=0.1, slow_rate=0.2, slow_seconds=0)
    settings = EmulatorSettings(faults={"shopify": faults}, limits={"shopify": LimitPolicy(bucket_size=10_000)})
    outcomes: Counter[str] = Counter()
    async with client(build_app("shopify", store, settings)) as http:
        for _ in range(600):
            response = await http.get(CUSTOMERS, headers=AUTH)
            if response.status_code == 200:
                try:
                    orjson.loads(response.content)
                    outcomes["ok"] += 1
                except orjson.JSONDecodeError:
                    outcomes["truncated"] += 1
            else:
                outcomes[str(response.status_code)[0] + "xx" if response.status_code >= 500 else "429"] += 1
                if response.status_code == 429:
                    assert response.headers["Retry-After"] == "2.0"
        stats = (await http.get("/_sandbox/stats")).json()["shopify"]

    for outcome in ("5xx", "429", "truncated"):
        assert abs(outcomes[outcome] / 600 - 0.1) < 0.04, outcomes
    assert abs(stats["faults"]["slow"] / 600 - 0.2) < 0.05
    assert stats["faults"]["error"] == outcomes["5xx"] and stats["requests"] == 600


@pytest.mark.anyio
async def test_given_the_same_fault_seed_when_replayed_then_the_same_requests_fail(store: SandboxStore) -> None:
    async def statuses(seed: int) -> list[int]:
        settings = EmulatorSettings(fault_seed=seed, faults={"shopify": FaultConfig(error_rate=0.3)})
        async with client(build_app("shopify", store, settings)) as http:
            return [(await http.get(CUSTOMERS, headers=AUTH)).status_code for _ in range(30)]

    assert await statuses(7) == await statuses(7)
    assert await statuses(7) != await statuses(8)


@pytest.mark.anyio
async def test_given_a_timeout_fault_when_it_fires_then_the_answer_stalls_and_ends_in_a_504(
    store: SandboxStore,
) -> None:
    stalling = EmulatorSettings(faults={"shopify": FaultConfig(timeout_rate=1.0, timeout_seconds=30.0)})
    short = EmulatorSettings(faults={"shopify": FaultConfig(timeout_rate=1.0, timeout_seconds=0.01)})
    async with client(build_app("shopify", store, stalling)) as http:
        with anyio.move_on_after(0.3) as waited:
            await http.get(CUSTOMERS, headers=AUTH)
    async with client(build_app("shopify", store, short)) as http:
        gave_up = await http.get(CUSTOMERS, headers=AUTH)

    assert waited.cancelled_caught
    assert gave_up.status_code == 504 and gave_up.json() == {"errors": "Gateway Timeout"}


def test_given_exclusive_rates_summing_above_one_when_configured_then_it_fails_naming_the_system() -> None:
    with pytest.raises(ValueError, match="faults for shopify"):
        from connectors.sandbox.emulators.faults import FaultInjector

        FaultInjector(0, {"shopify": FaultConfig(error_rate=0.6, throttle_rate=0.6)})


# -- admin surface ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_given_the_clock_is_moved_back_when_listing_then_later_records_are_not_visible_yet(
    store: SandboxStore,
) -> None:
    async with client(build_app("shopify", store, EmulatorSettings())) as http:
        assert (await http.get("/_sandbox/clock")).json() == {"now": "2026-03-31T23:59:59.999999+00:00"}
        moved = await http.put("/_sandbox/clock", json={"now": "2026-01-05T17:30:00Z"})
        customers = (await http.get(CUSTOMERS, headers=AUTH)).json()["customers"]
        refused = await http.put("/_sandbox/clock", json={"when": "soon"})

    assert moved.json() == {"now": "2026-01-05T17:30:00+00:00"}
    assert len(customers) == 2  # updated at 16:00 and 17:00; the others later that day
    assert refused.status_code == 400


@pytest.mark.anyio
async def test_given_faults_replaced_at_run_time_when_requests_follow_then_they_use_the_new_rates(
    store: SandboxStore,
) -> None:
    async with client(build_app("shopify", store, EmulatorSettings())) as http:
        before = await http.get(CUSTOMERS, headers=AUTH)
        replaced = await http.put("/_sandbox/faults/shopify", json={"error_rate": 1.0})
        after = await http.get(CUSTOMERS, headers=AUTH)
        invalid = await http.put("/_sandbox/faults/shopify", json={"error_rate": 2})
        unknown = await http.put("/_sandbox/faults/xero", json={})
        stats = (await http.get("/_sandbox/stats")).json()

    assert before.status_code == 200 and replaced.status_code == 200
    assert after.status_code in (500, 502, 503) and "errors" in after.json()
    assert invalid.status_code == 422 and unknown.status_code == 404
    assert stats["shopify"]["tenants"][MAPLE.company_id]["faults"] == {"error": 1}
    assert stats["shopify"]["responses"]["200"] == 1


# -- auth helpers -------------------------------------------------------------------------------------


def test_given_the_same_secret_when_credentials_are_derived_then_they_repeat_and_differ_per_secret() -> None:
    one, again = tenant_credentials("quickbooks", RHEIN, EmulatorSettings()), tenant_credentials("quickbooks", RHEIN)
    other = tenant_credentials("quickbooks", RHEIN, EmulatorSettings(secret="rotated"))

    assert one == again
    assert one["refresh_token"] != other["refresh_token"] and one["client_secret"] != other["client_secret"]
    assert one["realm_id"] == other["realm_id"] and one["realm_id"].isdigit() and len(one["realm_id"]) == 16


def test_given_a_company_outside_a_system_when_asking_its_credentials_then_it_fails_naming_both() -> None:
    with pytest.raises(ValueError, match="c00002 is not a shopify tenant"):
        tenant_credentials("shopify", RHEIN)


@pytest.fixture
def netsuite() -> Iterator[tuple[OAuth1Verifier, FakeTimer]]:
    timer = FakeTimer(1_767_000_000)
    secrets = {("ck", "tk"): ("consumer-secret", "token-secret")}
    yield OAuth1Verifier(lambda key, token: secrets.get((key, token)), timer=timer), timer


def _signed(url: str, timer: FakeTimer, nonce: str, *, secret: str = "consumer-secret") -> str:
    signer = Client(
        "ck",
        client_secret=secret,
        resource_owner_key="tk",
        resource_owner_secret="token-secret",
        signature_method=SIGNATURE_HMAC_SHA256,
        realm="1234567_SB1",
        nonce=nonce,
        timestamp=str(int(timer())),
    )
    return signer.sign(url, "GET")[1]["Authorization"]


def test_given_a_tba_signature_when_verified_then_the_realm_and_keys_come_back(netsuite) -> None:
    verifier, timer = netsuite
    url = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder?limit=5&offset=10"
    identity = verifier.verify("GET", url, _signed(url, timer, "n1"))
    assert (identity.realm, identity.consumer_key, identity.token) == ("1234567_SB1", "ck", "tk")


def test_given_tba_headers_that_are_forged_stale_or_replayed_when_verified_then_each_is_refused(netsuite) -> None:
    verifier, timer = netsuite
    url = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql"
    with pytest.raises(OAuth1Error, match="signature"):
        verifier.verify("GET", url, _signed(url, timer, "n2", secret="guessed"))
    with pytest.raises(OAuth1Error, match="signature"):
        verifier.verify("GET", url + "?offset=1000", _signed(url, timer, "n3"))
    stale = _signed(url, timer, "n4")
    timer.advance(600)
    with pytest.raises(OAuth1Error, match="away from the server clock"):
        verifier.verify("GET", url, stale)
    fresh = _signed(url, timer, "n5")
    verifier.verify("GET", url, fresh)
    with pytest.raises(OAuth1Error, match="nonce"):
        verifier.verify("GET", url, fresh)


# -- wire formats -----------------------------------------------------------------------------------


def test_given_instants_and_amounts_when_formatted_then_they_follow_the_systems_and_pass_poison_through() -> None:
    new_york = zone("America/New_York")
    assert local_time("2008-01-10T16:00:00Z", new_york) == "2008-01-10T11:00:00-05:00"
    assert local_time("0001-01-01T00:00:00+00:00", new_york) == "0001-01-01T00:00:00+00:00"
    assert local_time("not a date", new_york) == "not a date"
    assert (money_text(409.94, "USD"), money_text(1200.0, "JPY"), money_text("NaN", "USD")) == ("409.94", "1200", "NaN")


# -- one sandbox server over real HTTP ------------------------------------------------------------------


def test_given_the_sandbox_app_under_uvicorn_when_called_over_tcp_then_every_system_answers(
    store: SandboxStore,
) -> None:
    settings = EmulatorSettings()
    server = uvicorn.Server(
        uvicorn.Config(
            build_sandbox_app(store, settings), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        books = tenant_credentials("quickbooks", RHEIN, settings)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            shop = http.get(f"/shopify{CUSTOMERS}", headers=AUTH)
            token = http.post(
                "/quickbooks/oauth2/v1/tokens/bearer",
                data={"grant_type": "refresh_token", "refresh_token": books["refresh_token"]},
                auth=(books["client_id"], books["client_secret"]),
            )
            items = http.get(
                f"/quickbooks/v3/company/{books['realm_id']}/query",
                params={"query": "select * from Item"},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
            stats = http.get("/_sandbox/stats").json()
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    assert len(shop.json()["customers"]) == 4
    assert [item["Sku"] for item in items.json()["QueryResponse"]["Item"]] == ["SKU-1", "SKU-2", "SKU-3"]
    assert stats["quickbooks"]["tenants"][RHEIN.company_id]["responses"] == {"200": 1}
