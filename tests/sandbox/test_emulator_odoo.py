"""The Odoo external API emulator (JSON-RPC and XML-RPC), through its HTTP surface."""

from __future__ import annotations

import itertools
import xmlrpc.client
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sandbox.config import DriftRule, FaultConfig
from connectors.sandbox.emulators import EmulatorSettings, build_app, tenant_credentials
from connectors.sandbox.emulators.limits import LimitPolicy, Window
from connectors.sandbox.model import Record, native_id
from connectors.sandbox.store import SandboxStore
from tests.sandbox.conftest import T0, FakeTimer, client, document, master_data, payment, record, sandbox_store, tenant, with_revisions

pytestmark = pytest.mark.anyio

ROSE = tenant(
    "c00201", "Rose Atelier", "odoo", sector="retail", region="EU", country="FR", currency="EUR",
    timezone="Europe/Paris", locale="fr_FR",
)
SETTINGS = EmulatorSettings()
KEYS = tenant_credentials("odoo", ROSE, SETTINGS)
END = datetime(2026, 4, 1, tzinfo=timezone.utc)
LATER = timedelta(days=25)


def _id(entity: str, serial: int) -> int:
    return int(native_id("odoo", ROSE.company_id, entity, serial))


def _odoo_records() -> Iterator[Record]:
    yield from master_data("odoo", ROSE, customer="Client{} SARL", vendor="Fournisseur{} SA", currency="EUR")
    for serial in range(1, 4):
        snapshot = {"product_id": str(serial), "sku": f"SKU-{serial}", "as_of": "2026-01-12",
                    "quantity_on_hand": 12.0 * serial, "unit_cost": 6.0 * serial}
        yield record("odoo", ROSE, "inventory_snapshot", serial, T0 + timedelta(days=7), snapshot)
    for serial in range(1, 6):
        at = T0 + timedelta(days=serial, hours=2)
        body = document("odoo", ROSE, f"S{serial:05d}", serial % 4 + 1, at, [1.0, 2.0], "open")
        body["party_id"] = str(_id("customer", serial % 4 + 1))
        first = record("odoo", ROSE, "sales_order", serial, at, body)
        yield from with_revisions(first, serial, at + LATER, changes={2: {"status": "cancelled"}}, deleted=[4])
    for serial in range(1, 7):
        at = T0 + timedelta(days=serial, hours=8)
        body = document("odoo", ROSE, f"INV/2026/{serial:05d}", 1, at, [1.0, 3.0], "open",
                        due_on=(at + timedelta(days=30)).date().isoformat())
        body.update(party_id=str(_id("customer", 1)), balance=body["total"] if serial != 6 else 30.0)
        fates = {2: {"status": "void", "balance": 0.0}, 5: {"status": "paid", "balance": 0.0}}
        first = record("odoo", ROSE, "invoice", serial, at, body)
        yield from with_revisions(first, serial, at + LATER, changes=fates, deleted=[3])
    at = T0 + timedelta(days=9)
    credit = document("odoo", ROSE, "RINV/2026/00001", 1, at, [1.0], "open", applies_to=str(_id("invoice", 1)))
    credit["party_id"] = str(_id("customer", 1))
    yield record("odoo", ROSE, "credit_note", 1, at, credit)
    for serial in range(1, 3):
        at = T0 + timedelta(days=serial + 3)
        body = payment(str(_id("customer", 1)), str(_id("invoice", serial)), at, amount=44.0, currency="EUR",
                       method="card")
        yield record("odoo", ROSE, "payment", serial, at, body)
    for serial, status in ((1, "open"), (2, "received")):
        at = T0 + timedelta(days=serial, hours=1)
        po = document("odoo", ROSE, f"P{serial:05d}", 1, at, [4.0], status, party_id=str(_id("vendor", 1)),
                      due_on="2026-02-01")
        yield record("odoo", ROSE, "purchase_order", serial, at, po)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox_store(tmp_path_factory, [ROSE], _odoo_records())


_ids = itertools.count(1)


async def _jsonrpc(http: httpx.AsyncClient, service: str, method: str, *args: Any) -> dict[str, Any]:
    response = await http.post(
        "/jsonrpc",
        json={"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args},
              "id": next(_ids)},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _execute(
    http: httpx.AsyncClient, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None,
    *, password: str = KEYS["password"],
) -> dict[str, Any]:
    return await _jsonrpc(http, "object", "execute_kw", KEYS["db"], 2, password, model, method, args, kwargs or {})


async def _rows(http: httpx.AsyncClient, model: str, domain: list[Any] | None = None, **kwargs: Any) -> list[dict]:
    answer = await _execute(http, model, "search_read", [domain or []], kwargs)
    assert "result" in answer, answer
    return answer["result"]


def _live_ids(store: SandboxStore, *entities: str) -> list[int]:
    records = [r for e in entities for r in store.records("odoo", ROSE.company_id, e, as_of=END, deleted=False)]
    return [int(r.record_id) for r in sorted(records, key=lambda r: (r.updated_at, r.record_id))]


async def test_given_the_api_key_when_logging_in_then_the_uid_comes_back_and_a_wrong_key_gets_false(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        version = await _jsonrpc(http, "common", "version")
        uid = await _jsonrpc(http, "common", "login", KEYS["db"], KEYS["login"], KEYS["password"])
        wrong = await _jsonrpc(http, "common", "authenticate", KEYS["db"], KEYS["login"], "guessed", {})
        no_db = await _jsonrpc(http, "common", "login", "nope", KEYS["login"], KEYS["password"])

    assert version["result"]["server_version"] == "17.0"
    assert uid["result"] == 2 and wrong["result"] is False
    assert no_db["error"]["data"]["name"] == "psycopg2.OperationalError"
    assert 'database "nope" does not exist' in no_db["error"]["data"]["message"]


async def test_given_a_wrong_key_when_calling_a_model_then_the_answer_is_odoos_access_denied_error(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        answer = await _execute(http, "res.partner", "search_read", [[]], password="stale-key")

    error = answer["error"]
    assert (error["code"], error["message"]) == (200, "Odoo Server Error")
    assert error["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert error["data"]["message"] == "Access Denied" and error["data"]["arguments"] == ["Access Denied"]
    assert "result" not in answer and answer["jsonrpc"] == "2.0"


async def test_given_offset_paging_when_walking_invoices_and_refunds_then_each_live_move_arrives_once(
    store: SandboxStore,
) -> None:
    seen: list[int] = []
    async with client(build_app("odoo", store, SETTINGS)) as http:
        for offset in itertools.count(0, 2):
            page = await _rows(http, "account.move", [], fields=["name", "move_type"], offset=offset, limit=2,
                               order="write_date asc, id asc")
            seen += [row["id"] for row in page]
            if len(page) < 2:
                break
        count = (await _execute(http, "account.move", "search_count", [[]]))["result"]

    assert seen == _live_ids(store, "invoice", "credit_note")
    assert len(seen) == 6 and _id("invoice", 3) not in seen and count == 6
    assert _id("credit_note", 1) in seen  # a refund never collides with an invoice id: both are account.move


async def test_given_a_write_date_domain_when_searching_then_only_changes_since_then_come(store: SandboxStore) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        changed = await _rows(http, "account.move", [("write_date", ">=", "2026-02-01 00:00:00")],
                              fields=["write_date", "state"])
        one_day = await _rows(http, "sale.order", [("write_date", ">=", "2026-01-06"),
                                                   ("write_date", "<", "2026-01-07")], fields=["name"])

    assert [row["id"] for row in changed] == [_id("invoice", 2), _id("invoice", 5)]  # void and paid; delete gone
    assert all(row["write_date"] >= "2026-02-01 00:00:00" for row in changed)
    assert [row["name"] for row in one_day] == ["S00001"]


async def test_given_partners_when_split_by_rank_then_customers_and_vendors_share_res_partner(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        customers = await _rows(http, "res.partner", [("customer_rank", ">", 0)], fields=["name", "supplier_rank"])
        vendors = await _rows(http, "res.partner", [("supplier_rank", ">", 0)], fields=["name", "country_id"])

    assert [row["name"] for row in customers] == [f"Client{n} SARL" for n in range(1, 5)]
    assert [row["name"] for row in vendors] == ["Fournisseur1 SA", "Fournisseur2 SA"]
    assert not {row["id"] for row in customers} & {row["id"] for row in vendors}
    assert vendors[0]["country_id"][1] == "US" and customers[0]["supplier_rank"] == 0


async def test_given_a_sale_order_when_its_order_line_ids_are_read_then_lines_come_in_odoos_shape(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        (order,) = (await _execute(http, "sale.order", "read", [[_id("sales_order", 1)]]))["result"]
        lines = (await _execute(http, "sale.order.line", "read", [order["order_line"]],
                                {"fields": ["product_id", "product_uom_qty", "order_id", "price_subtotal"]}))["result"]
        cancelled = await _rows(http, "sale.order", [("state", "=", "cancel")], fields=["name"])

    assert order["partner_id"] == [_id("customer", 2), "Client2 SARL"]
    assert order["date_order"] == "2026-01-06 17:00:00" and order["client_order_ref"] is False
    assert order["state"] == "sale" and order["currency_id"][1] == "EUR"
    assert [line["product_id"] for line in lines] == [[1, "[SKU-1] Widget 1"], [2, "[SKU-2] Widget 2"]]
    assert [line["product_uom_qty"] for line in lines] == [1.0, 2.0]
    assert all(line["order_id"] == [_id("sales_order", 1), "S00001"] for line in lines)
    assert [row["name"] for row in cancelled] == ["S00002"]


async def test_given_voided_paid_and_refunded_invoices_when_read_then_states_and_journal_items_follow_odoo(
    store: SandboxStore,
) -> None:
    ids = [_id("invoice", n) for n in (1, 2, 5, 6)] + [_id("credit_note", 1)]
    async with client(build_app("odoo", store, SETTINGS)) as http:
        moves = (await _execute(http, "account.move", "read", [ids],
                                {"fields": ["state", "payment_state", "move_type", "reversed_entry_id", "line_ids",
                                            "invoice_date", "amount_residual"]}))["result"]
        items = await _rows(http, "account.move.line", [("move_id", "=", _id("invoice", 1))],
                            fields=["display_type", "debit", "credit", "balance"])

    by_id = {move["id"]: move for move in moves}
    opened, void, paid, partial, refund = (by_id[i] for i in ids)
    assert (opened["state"], opened["payment_state"]) == ("posted", "not_paid")
    assert opened["invoice_date"] == "2026-01-07"  # issued 2026-01-06T23:00Z: already the 7th in Paris
    assert (void["state"], void["amount_residual"]) == ("cancel", 0.0)
    assert paid["payment_state"] == "paid"
    assert (partial["payment_state"], partial["amount_residual"]) == ("partial", 30.0)
    assert refund["move_type"] == "out_refund" and refund["reversed_entry_id"] == [_id("invoice", 1), "INV/2026/00001"]
    assert [item["display_type"] for item in items] == ["product", "product", "tax", "payment_term"]
    assert [item["id"] for item in items] == opened["line_ids"]
    assert sum(item["debit"] for item in items) == sum(item["credit"] for item in items) == 77.0
    assert round(sum(item["balance"] for item in items), 2) == 0


async def test_given_calls_odoo_refuses_when_sent_then_each_comes_back_as_its_odoo_exception(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        no_model = await _execute(http, "res.unicorn", "search_read", [[]])
        bad_field = await _execute(http, "res.partner", "search_read", [[("horn", "=", 1)]])
        missing = await _execute(http, "sale.order", "read", [[99999]])
        write = await _execute(http, "res.partner", "create", [{"name": "New"}])
        bad_order = await _execute(http, "sale.order", "search_read", [[]], {"order": "name desc"})
        bad_method = await _execute(http, "sale.order", "action_confirm", [[1]])

    assert no_model["error"]["data"]["name"] == "odoo.exceptions.UserError"
    assert no_model["error"]["data"]["message"] == "Object res.unicorn doesn't exist"
    assert bad_field["error"]["data"]["name"] == "builtins.ValueError"
    assert "Invalid field res.partner.horn" in bad_field["error"]["data"]["message"]
    assert missing["error"]["data"]["name"] == "odoo.exceptions.MissingError"
    assert write["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    assert bad_order["error"]["data"]["name"] == "builtins.ValueError"
    assert bad_method["error"]["data"]["name"] == "builtins.AttributeError"


def _xml(method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps(params, method).encode()


async def test_given_xml_rpc_when_logging_in_and_reading_then_it_answers_like_json_rpc_with_odoo_fault_codes(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        login = await http.post("/xmlrpc/2/common", content=_xml("login", KEYS["db"], KEYS["login"], KEYS["password"]))
        uid = xmlrpc.client.loads(login.content)[0][0]
        found = await http.post("/xmlrpc/2/object", content=_xml(
            "execute_kw", KEYS["db"], uid, KEYS["password"], "product.product", "search_read", [[]],
            {"fields": ["default_code", "list_price"]}))
        denied = await http.post("/xmlrpc/2/object", content=_xml(
            "execute_kw", KEYS["db"], uid, "stale", "product.product", "search_read", [[]]))
        invalid = await http.post("/xmlrpc/2/object", content=_xml(
            "execute_kw", KEYS["db"], uid, KEYS["password"], "product.product", "search_read", [[("x", "=", 1)]]))

    assert uid == 2 and found.headers["content-type"].startswith("text/xml")
    assert [row["default_code"] for row in xmlrpc.client.loads(found.content)[0][0]] == ["SKU-1", "SKU-2", "SKU-3"]
    with pytest.raises(xmlrpc.client.Fault) as access:
        xmlrpc.client.loads(denied.content)
    assert (access.value.faultCode, access.value.faultString) == (3, "Access Denied")
    with pytest.raises(xmlrpc.client.Fault) as application:
        xmlrpc.client.loads(invalid.content)
    assert application.value.faultCode == 1 and "ValueError: Invalid field" in application.value.faultString


async def test_given_ten_failed_logins_when_the_right_key_follows_then_it_gets_false_until_the_cooldown_ends(
    store: SandboxStore, timer: FakeTimer
) -> None:
    async with client(build_app("odoo", store, SETTINGS, timer=timer)) as http:
        for _ in range(10):
            await _jsonrpc(http, "common", "login", KEYS["db"], KEYS["login"], "guess")
        cooling = await _jsonrpc(http, "common", "login", KEYS["db"], KEYS["login"], KEYS["password"])
        timer.advance(61)
        cooled = await _jsonrpc(http, "common", "login", KEYS["db"], KEYS["login"], KEYS["password"])

    assert cooling["result"] is False and cooled["result"] == 2


async def test_given_a_configured_rate_limit_when_exceeded_then_the_proxy_429_page_comes_with_retry_after(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(limits={"odoo": LimitPolicy(windows={"minute": Window(limit=2, seconds=60)})})
    async with client(build_app("odoo", store, settings, timer=timer)) as http:
        admitted = [await _execute(http, "res.partner", "search_count", [[]]) for _ in range(2)]
        timer.advance(15)
        refused = await http.post("/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [KEYS["db"], 2, KEYS["password"], "res.partner", "search_count", [[]]]}})
        login = await _jsonrpc(http, "common", "login", KEYS["db"], KEYS["login"], KEYS["password"])

    assert [a["result"] for a in admitted] == [6, 6]
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "45"
    assert refused.headers["content-type"].startswith("text/html") and "Too Many Requests" in refused.text
    assert login["result"] == 2  # logins sit outside the object calls' limits


async def test_given_injected_server_errors_when_they_fire_then_html_error_pages_come_back(store: SandboxStore) -> None:
    settings = EmulatorSettings(faults={"odoo": FaultConfig(error_rate=1.0)})
    async with client(build_app("odoo", store, settings)) as http:
        response = await http.post("/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [KEYS["db"], 2, KEYS["password"], "res.partner", "search_count", [[]]]}})

    assert response.status_code in (500, 502, 503)
    assert response.headers["content-type"].startswith("text/html") and "<title>" in response.text


async def test_given_a_drift_rule_when_moves_straddle_its_date_then_only_later_versions_change(
    store: SandboxStore,
) -> None:
    rule = DriftRule(system="odoo", entity="invoice", on=date(2026, 2, 1), kind="rename", field="amount_total",
                     to="amount_total_signed")
    async with client(build_app("odoo", store, EmulatorSettings(drift=[rule]))) as http:
        moves = (await _execute(http, "account.move", "read", [[_id("invoice", 1), _id("invoice", 5)]],
                                {"fields": ["amount_total"]}))["result"]

    before, after = moves
    assert before == {"id": _id("invoice", 1), "amount_total": 77.0}
    assert after == {"id": _id("invoice", 5), "amount_total_signed": 77.0}


async def test_given_stock_counts_when_read_then_each_is_a_quant_with_its_product_and_value(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        quants = await _rows(http, "stock.quant", [], fields=["product_id", "quantity", "value", "location_id"])
        fields = (await _execute(http, "stock.quant", "fields_get", [], {"attributes": ["type", "relation"]}))["result"]

    assert [q["product_id"] for q in quants] == [[1, "[SKU-1] Widget 1"], [2, "[SKU-2] Widget 2"],
                                                  [3, "[SKU-3] Widget 3"]]
    assert [q["value"] for q in quants] == [72.0, 288.0, 648.0]
    assert quants[0]["location_id"] == [8, "WH/Stock"]
    assert fields["product_id"] == {"type": "many2one", "relation": "product.product"}


async def test_given_pages_that_end_inside_a_documents_lines_when_walking_journal_items_then_none_is_lost(
    store: SandboxStore,
) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        everything = await _rows(http, "account.move.line", [], fields=["move_id"])
        walked: list[int] = []
        for offset in itertools.count(0, 3):
            page = await _rows(http, "account.move.line", [], fields=["move_id"], offset=offset, limit=3)
            walked += [row["id"] for row in page]
            if len(page) < 3:
                break

    assert walked == [row["id"] for row in everything]
    assert len(walked) == 5 * 4 + 3  # five invoices of two lines + tax + receivable, one refund of one line
    assert len(set(walked)) == len(walked)


async def test_given_a_body_that_is_not_a_call_when_posted_then_odoo_answers_the_400_page(store: SandboxStore) -> None:
    async with client(build_app("odoo", store, SETTINGS)) as http:
        garbled = await http.post("/jsonrpc", content=b"{not json")
        not_xml = await http.post("/xmlrpc/2/object", content=b"<methodCall><unclosed>")

    for response in (garbled, not_xml):
        assert response.status_code == 400 and "<title>400 Bad Request</title>" in response.text
