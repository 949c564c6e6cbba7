"""The real msgraph-sdk against a running `licensing serve`: what it reads equals `licensing export` of the database."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.conftest import Server, export
from tests.api.graph_client import graph_client


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_subscribed_skus_equal_the_export(demo_server: Server) -> None:
    client = graph_client(demo_server.graph())
    skus = run(client.subscribed_skus.get()).value
    document = export(demo_server.db)
    read = sorted(
        (
            str(sku.sku_id),
            sku.sku_part_number,
            sku.capability_status,
            sku.consumed_units,
            (sku.prepaid_units.enabled, sku.prepaid_units.warning, sku.prepaid_units.suspended, sku.prepaid_units.locked_out),
        )
        for sku in skus
    )
    expected = sorted(
        (
            s["skuId"],
            s["skuPartNumber"],
            s["capabilityStatus"],
            s["consumedUnits"],
            tuple(s["prepaidUnits"][k] for k in ("enabled", "warning", "suspended", "lockedOut")),
        )
        for s in document["subscribedSkus"]
    )
    assert read == expected
    assert len(read) >= 5
    assert all(sku.service_plans for sku in skus if sku.sku_part_number == "ENTERPRISEPACK")
