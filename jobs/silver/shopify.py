"""Shopify Admin REST → canonical entities: orders are sales orders (channel "shop"), customers, products
(the first variant's SKU and price). Money is text in the shop's currency."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.silver.mapping import Fields, Mapping, money, money_sum, ref_id, struct_of, text
from schemas.canonical.entities import DocumentLine

SYSTEM = "shopify"

#: fulfillment_status → canonical status of the order (none yet is open); a cancelled order is cancelled,
#: a refunded or voided one void, whatever its fulfillment.
FULFILLMENT_STATUS = {"fulfilled": "fulfilled", "partial": "open", "unfulfilled": "open", "restocked": "cancelled"}


def order(p: Column, f: Fields) -> dict[str, Column]:
    lines = F.transform(p["line_items"], lambda line, i: struct_of(
        DocumentLine,
        line_no=i + 1,
        product_id=ref_id(SYSTEM, "product", line["product_id"]),
        sku=text(line["sku"]),
        description=text(line["title"]),
        quantity=money(line["quantity"]),
        unit_price=money(line["price"]),
        amount=money(line["quantity"]) * money(line["price"]) - F.coalesce(money(line["total_discount"]), F.lit(0)),
        tax_amount=money_sum(line["tax_lines"], lambda tax: money(tax["price"])),
    ))
    bad_quantity = F.filter(lines, lambda line: line["quantity"].isNull() | (line["quantity"] < 0))
    f.problem(F.size(bad_quantity) > 0, "not-a-quantity", "line_items[].quantity",
              F.concat(F.lit("line_items[].quantity must be a number ≥ 0, line "), F.get(bad_quantity, 0)["line_no"].cast("string"), F.lit(" is not")))
    f.problem(F.exists(lines, lambda line: line["unit_price"].isNull()), "not-a-number", "line_items[].price", "line_items[].price is not a number")
    return {
        "source_id": p["id"],
        "number": text(p["name"]),
        "party_id": ref_id(SYSTEM, "customer", p["customer"]["id"]),
        "issued_at": f.instant("created_at", p["created_at"]),
        # the shop's local time, offset and all: its date part is the local date (a bad value is created_at's problem)
        "issued_on": F.try_to_date(F.substring(text(p["created_at"]), 1, 10)),
        "currency": f.required("currency", F.upper(text(p["currency"]))),
        "status": (F.when(text(p["cancelled_at"]).isNotNull(), "cancelled")
                   .when(text(p["financial_status"]).isin("refunded", "voided"), "void")
                   .otherwise(f.enum("fulfillment_status", p["fulfillment_status"], FULFILLMENT_STATUS, default="open"))),
        "subtotal": f.decimal("subtotal_price", p["subtotal_price"]),
        "tax_total": f.decimal("total_tax", p["total_tax"]),
        "total": f.decimal("total_price", p["total_price"]),
        "lines": lines,
        "channel": F.lit("shop"),
    }


def customer(p: Column, f: Fields) -> dict[str, Column]:
    """Shopify customers are people. The default address's full name is the name (its token is comparable with
    the full-name tokens other systems hold); without an address, the first and last name tokens stand for it."""
    return {
        "source_id": p["id"],
        "name_token": f.required("first_name", F.coalesce(text(p["default_address"]["name"]),
                                                          text(F.concat_ws(" ", text(p["first_name"]), text(p["last_name"]))))),
        "is_person": F.lit(True),
        "email_token": text(p["email"]),
        "phone_token": F.coalesce(text(p["phone"]), text(p["default_address"]["phone"])),
        "country": text(p["default_address"]["country_code"]),
    }


def product(p: Column, f: Fields) -> dict[str, Column]:
    variant = F.get(p["variants"], 0)
    return {
        "source_id": p["id"],
        "sku": text(variant["sku"]),
        "name": f.required("title", text(p["title"])),
        "category": text(p["product_type"]),
        "unit_price": f.decimal("variants[].price", variant["price"], required=False),
        "is_deleted": text(p["status"]) == "archived",
    }


MAPPINGS = (
    Mapping(SYSTEM, "orders", "sales_order", order),
    Mapping(SYSTEM, "customers", "customer", customer),
    Mapping(SYSTEM, "products", "product", product),
)
