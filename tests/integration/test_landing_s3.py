"""Landing files, manifests and cursors on the S3 server, through the same runner as on a local folder."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from datetime import datetime, timezone

import orjson

from connectors.extract import ExtractPlan, extract
from connectors.state import CursorStore
from jobs.services import S3Service
from jobs.settings import Settings, load_settings
from jobs.storage import warehouse_filesystem
from tests.connectors.test_extract import PagedConnector, _connection, _orders


def test_given_an_s3_warehouse_when_extracted_then_parts_manifest_and_cursor_are_objects_in_the_bucket(services: Settings):
    prefix = f"tests/wh-{uuid.uuid4().hex[:8]}"
    settings = load_settings("s3", warehouse=f"s3a://{services.services.s3_bucket}/{prefix}")
    filesystem, root = warehouse_filesystem(settings)
    until = datetime(2026, 3, 1, tzinfo=timezone.utc)
    plan = ExtractPlan(filesystem, root, "r1", until=until, connector_factory=lambda c: PagedConnector(c, [_orders(0, 4)]))

    summary = asyncio.run(extract(plan, [_connection("c1")]))

    assert summary.failed == []
    client = S3Service(services).client()
    folder = f"{prefix}/landing/shopify/orders/company=c1/run=r1"
    manifest = orjson.loads(client.get_object(Bucket=services.services.s3_bucket, Key=f"{folder}/_manifest.json")["Body"].read())
    part = client.get_object(Bucket=services.services.s3_bucket, Key=f"{folder}/{manifest['files'][0]['name']}")["Body"].read()
    assert manifest["records"] == 4 and len(gzip.decompress(part).splitlines()) == 4
    assert CursorStore(filesystem, root).get("shopify", "c1", "orders") == until
