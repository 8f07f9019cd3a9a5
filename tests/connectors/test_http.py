"""The shared HTTP layer on scripted servers (httpx.MockTransport): what is retried, what is not, how limits
and tokens behave, and that pagination never loops."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from connectors.http.auth import AuthError, OAuth2Auth
from connectors.http.client import ApiClient, RetryBudgetExhausted, RetryPolicy, SourceError
from connectors.http.limits import RateLimit
from connectors.http.paginators import LinkHeaderPaginator, OffsetPaginator, PageRequest, PaginationLoop, paginate

FAST = RetryPolicy(attempts=5, budget=50, initial_wait=0.001, max_wait=0.01)
OPEN = RateLimit(rate=1000, burst=100)


def _client(handler, *, auth=None, retry=FAST, limit=OPEN):
    return ApiClient("https://api.example.test", label="test/c1", auth=auth, limit=limit, retry=retry, transport=httpx.MockTransport(handler))


def _script(*answers):
    """A handler answering the given responses in turn, recording each request."""
    seen = []

    def handler(request):
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1]

    return handler, seen


def test_given_5xx_and_a_truncated_page_when_fetched_then_it_is_retried_until_whole_json_arrives():
    handler, seen = _script(httpx.Response(503), httpx.Response(200, content=b'{"orders": [{"id": 1'), httpx.Response(200, json={"orders": []}))

    async def scenario():
        async with _client(handler) as client:
            return await client.json("GET", "/orders"), client.stats

    (_, payload), stats = asyncio.run(scenario())
    assert payload == {"orders": []} and len(seen) == 3
    assert stats.retries == {"503": 1, "truncated": 1}


def test_given_a_4xx_when_fetched_then_it_is_not_retried_and_the_error_names_connection_and_body():
    handler, seen = _script(httpx.Response(400, json={"errors": {"page_info": "Invalid value."}}))

    async def scenario():
        async with _client(handler) as client:
            await client.json("GET", "/orders", params={"page_info": "x"})

    with pytest.raises(SourceError, match=r"test/c1: GET https://api.example.test/orders answered 400: .*page_info"):
        asyncio.run(scenario())
    assert len(seen) == 1


def test_given_429_with_retry_after_then_the_whole_account_waits_that_long():
    handler, seen = _script(httpx.Response(429, headers={"Retry-After": "0.3"}), httpx.Response(200, json={}))

    async def scenario():
        async with _client(handler) as client:
            started = time.monotonic()
            await client.json("GET", "/a")
            return time.monotonic() - started

    assert asyncio.run(scenario()) >= 0.3
    assert len(seen) == 2


def test_given_a_source_that_keeps_failing_then_the_retry_budget_ends_the_run():
    handler, _ = _script(httpx.Response(500))

    async def scenario():
        async with _client(handler, retry=RetryPolicy(attempts=10, budget=3, initial_wait=0.001, max_wait=0.001)) as client:
            await client.json("GET", "/a")

    with pytest.raises(RetryBudgetExhausted, match="retry budget of 3 used up"):
        asyncio.run(scenario())


def test_given_a_rate_limit_then_requests_never_exceed_it_in_any_window():
    stamps = []

    def handler(request):
        stamps.append(time.monotonic())
        return httpx.Response(200, json={})

    async def scenario():
        async with _client(handler, limit=RateLimit(rate=20, burst=5)) as client:
            await asyncio.gather(*(client.json("GET", f"/r{i}") for i in range(25)))

    asyncio.run(scenario())
    # burst 5 + 20/s: any 0.5 s holds at most 5 + 10 requests
    assert max(sum(1 for t in stamps if s <= t < s + 0.5) for s in stamps) <= 15
    assert RateLimit.within_window(500, 60).burst + RateLimit.within_window(500, 60).rate * 60 <= 500


def test_given_rotating_refresh_tokens_then_the_new_one_is_on_disk_before_the_access_token_is_used(tmp_path):
    secret = tmp_path / "refresh_token"
    secret.write_text("rt-1")
    on_disk_at_api_call = []

    def handler(request):
        if request.url.path == "/token":
            assert b"refresh_token=rt-" in request.content
            rotated = "rt-2" if b"rt-1" in request.content else "rt-3"
            return httpx.Response(200, json={"access_token": f"at-{rotated}", "refresh_token": rotated, "expires_in": 3600})
        on_disk_at_api_call.append(secret.read_text())
        if request.headers["Authorization"] == "Bearer at-rt-2" and len(on_disk_at_api_call) == 2:
            return httpx.Response(401)  # the server revoked it: renew once and resend
        return httpx.Response(200, json={})

    auth = OAuth2Auth("https://api.example.test/token", "id", "shh", label="test/c1", refresh_token_ref=f"file:{secret}")

    async def scenario():
        async with _client(handler, auth=auth) as client:
            await client.json("GET", "/one")
            await client.json("GET", "/two")

    asyncio.run(scenario())
    assert on_disk_at_api_call == ["rt-2", "rt-2", "rt-3"]
    assert secret.read_text() == "rt-3"


def test_given_a_refused_refresh_then_the_error_names_the_connection_but_no_secret(tmp_path):
    secret = tmp_path / "refresh_token"
    secret.write_text("very-secret-refresh")
    auth = OAuth2Auth("https://api.example.test/token", "id", "client-secret-value", label="xero/c9", refresh_token_ref=f"file:{secret}")

    async def scenario():
        async with _client(lambda r: httpx.Response(400, json={"error": "invalid_grant"}), auth=auth) as client:
            await client.json("GET", "/x")

    with pytest.raises(AuthError) as refused:
        asyncio.run(scenario())
    assert "xero/c9" in str(refused.value)
    assert "very-secret-refresh" not in str(refused.value) and "client-secret-value" not in str(refused.value)


def test_given_a_link_that_points_back_then_pagination_stops_with_a_loop_error():
    def handler(request):
        return httpx.Response(200, json={"orders": [{"id": 1}]}, headers={"Link": '<https://api.example.test/orders?page_info=A>; rel="next"'})

    async def scenario():
        async with _client(handler) as client:
            return [page async for page in paginate(client, PageRequest("/orders"), LinkHeaderPaginator(), lambda p: p["orders"])]

    with pytest.raises(PaginationLoop, match="sent us back"):
        asyncio.run(scenario())


def test_given_offset_pages_then_the_walk_ends_on_a_short_page():
    rows = list(range(7))

    def handler(request):
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={"items": rows[offset : offset + 3]})

    async def scenario():
        async with _client(handler) as client:
            paginator = OffsetPaginator(lambda offset: PageRequest("/items", params={"offset": offset}), page_size=3)
            return [page async for page in paginate(client, paginator.first(), paginator, lambda p: p["items"])]

    assert asyncio.run(scenario()) == [[0, 1, 2], [3, 4, 5], [6]]


def test_given_a_429_then_the_account_gives_up_its_burst_and_slows_down():
    from connectors.http.limits import RateBudget

    async def five_requests(budget):
        started = time.monotonic()
        for _ in range(5):
            async with budget.slot():
                pass
        return time.monotonic() - started

    fresh, refused = RateBudget(RateLimit(rate=20, burst=5)), RateBudget(RateLimit(rate=20, burst=5))
    refused.throttled()

    assert asyncio.run(five_requests(fresh)) < 0.05  # the burst goes at once
    assert asyncio.run(five_requests(refused)) >= 5 / 20 * 0.99  # one at a time, a little slower than 20/s
