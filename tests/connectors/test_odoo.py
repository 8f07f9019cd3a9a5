"""Odoo connector against the served sandbox (JSON-RPC search_read by write_date) and the real sample rows."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import Stream, Window
from connectors.http.auth import AuthError
from connectors.odoo import OdooConnector
from connectors.odoo.streams import BY_NAME
from connectors.registry import Connection
from connectors.sandbox.emulators.odoo_models import document_id
from tests.connectors.conftest import Found, read_records, read_tenants

FIXTURES = Path("/work/shared/fixtures/odoo")
BELOW_STALL = httpx.Timeout(1.0, connect=1.0)  # a read timeout below the faults' 3 s stall
SYSTEM = "odoo"


def clock(sandbox) -> datetime:
    return datetime.fromisoformat(httpx.get(f"{sandbox.base_url}/_sandbox/clock").json()["now"])


def live_ids(sandbox, connection: Connection, entity: str, as_of: datetime, **window: Any) -> set[str]:
    """What Odoo shows of an entity: its live records (unlinked ones are gone)."""
    records = sandbox.store.records(SYSTEM, connection.company_id, entity, as_of=as_of, deleted=False, **window)
    return {record.record_id for record in records}


def document_of(row: dict[str, Any]) -> str:
    """The store record a row comes from: a line's document, else the row itself."""
    parent = row.get("order_id") or row.get("move_id")
    return str(parent[0] if isinstance(parent, list) else row["id"])


def assert_every_record_read(sandbox, connection: Connection, found: Found, now: datetime) -> None:
    for stream, rows in found:
        if BY_NAME[stream.name].model.endswith(".line"):  # every document's lines, and only theirs
            records = sandbox.store.records(SYSTEM, connection.company_id, stream.entity, as_of=now, deleted=False)
            moves = stream.entity in ("invoice", "credit_note")  # a move always books a receivable line
            expected = {r.record_id for r in records if moves or r.body.get("lines")}
            assert {document_of(row) for row in rows} == expected, f"{connection.id} {stream.name}"
            assert all(str(document_id(row["id"])) == document_of(row) for row in rows)
        else:
            expected = live_ids(sandbox, connection, stream.entity, now)
            assert {stream.key(row) for row in rows} == expected, f"{connection.id} {stream.name}"


def test_given_no_faults_when_every_stream_is_read_then_keys_equal_what_the_sandbox_serves(served_sandbox):
    now = clock(served_sandbox)
    chosen = served_sandbox.registry.select(systems=[SYSTEM])
    for connection, (found, _) in zip(chosen, read_tenants(chosen, Window(None, now + timedelta(seconds=1)), read_records)):
        assert {stream.name for stream, _ in found} == set(BY_NAME)
        assert_every_record_read(served_sandbox, connection, found, now)
        for stream, rows in found:
            for row in rows[:5]:
                truth = served_sandbox.store.get(SYSTEM, connection.company_id, stream.entity, document_of(row),
                                                 as_of=now)
                assert stream.updated_at(row) == truth.updated_at.replace(microsecond=0)


def test_given_faults_when_every_stream_is_read_then_every_record_arrives(served_sandbox):
    now = clock(served_sandbox)
    faults = dict(error_rate=0.10, throttle_rate=0.05, timeout_rate=0.02, timeout_seconds=3, truncate_rate=0.05)
    chosen = served_sandbox.registry.select(systems=[SYSTEM])
    with served_sandbox.faults(SYSTEM, **faults):
        results = read_tenants(chosen, Window(None, now + timedelta(seconds=1)), read_records, timeout=BELOW_STALL)
    retried = sum((stats.retries for _, stats in results), Counter())
    assert sum(retried.values()) >= 3, f"the faults were met and retried: {dict(retried)}"
    for connection, (found, _) in zip(chosen, results):
        assert_every_record_read(served_sandbox, connection, found, now)


def test_given_a_window_when_read_then_records_updated_in_it_and_at_its_start_arrive(served_sandbox):
    now = clock(served_sandbox)
    connection = served_sandbox.registry.select(systems=[SYSTEM])[0].model_copy(update={"entities": ("sales_order",)})
    orders = list(served_sandbox.store.records(SYSTEM, connection.company_id, "sales_order", as_of=now, deleted=False))
    first, end = orders[len(orders) // 4], orders[len(orders) // 2]
    found, _ = asyncio.run(read_records(connection, Window(first.updated_at, end.updated_at)))
    stream, rows = next((stream, rows) for stream, rows in found if stream.name == "sale.order")
    read = {stream.key(row) for row in rows}
    to_second = {"updated_since": first.updated_at.replace(microsecond=0),  # Odoo's precision
                 "updated_before": end.updated_at.replace(microsecond=0)}
    assert read == live_ids(served_sandbox, connection, "sales_order", now, **to_second)
    assert first.record_id in read and len(read) < len(orders)


def fixture_connection(tmp_path: Path) -> Connection:
    (tmp_path / "password").write_text("an-api-key-s3cr3t")
    return Connection(system=SYSTEM, company_id="demo", base_url="https://demo.odoo.com", entities=("customer",),
                      settings={"db": "demo", "login": "admin"},
                      credentials={"password": f"file:{tmp_path / 'password'}"})


def test_given_the_real_sample_rows_when_read_then_their_ids_are_parsed(tmp_path):
    sample = json.loads((FIXTURES / "res_partner_search_read.json").read_text())
    calls: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        calls.append(call["params"])
        result = 2 if call["params"]["service"] == "common" else sample
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], "result": result})

    async def run() -> tuple[Stream, list[dict[str, Any]]]:
        connector = OdooConnector(fixture_connection(tmp_path), transport=httpx.MockTransport(answer))
        window = Window(None, datetime.fromisoformat("2026-01-01T00:00:00+00:00"))
        try:
            (stream,) = connector.streams()
            return stream, [row async for page in connector.read(stream, window) for row in page]
        finally:
            await connector.aclose()

    stream, rows = asyncio.run(run())
    assert rows == sample, "rows pass on as the source sent them"
    assert [stream.key(row) for row in rows] == ["7", "18", "12", "14", "17"]
    assert [stream.updated_at(row) for row in rows] == [None] * 5, "the sample asked for no write_date"
    authenticate, search = calls
    assert authenticate["method"] == "authenticate" and authenticate["args"][:2] == ["demo", "admin"]
    model, method, (domain,), options = search["args"][3:]
    assert (model, method) == ("res.partner", "search_read")
    assert ["customer_rank", ">", 0] in domain and ["write_date", "<", "2026-01-01 00:00:00"] in domain
    assert options == {"offset": 0, "limit": 500, "order": "write_date asc, id asc"}


def test_given_a_wrong_api_key_when_read_then_the_error_names_the_connection_but_no_secret(
    served_sandbox, tmp_path, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    connection = served_sandbox.registry.select(systems=[SYSTEM])[0]
    wrong_key = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / "password").write_text(wrong_key)
    broken = connection.model_copy(update={"credentials": {"password": f"file:{tmp_path / 'password'}"}})
    right_key = Path(connection.credentials["password"].removeprefix("file:")).read_text().strip()
    with pytest.raises(AuthError) as refused:
        asyncio.run(read_records(broken, Window(None, clock(served_sandbox))))
    assert connection.id in str(refused.value)
    shown = str(refused.value) + caplog.text + "".join(capsys.readouterr())
    assert wrong_key not in shown and right_key not in shown
