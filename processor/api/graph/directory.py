"""The tenant's directory-wide resources: subscribedSkus, organization, auditLogs/directoryAudits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from processor.api.graph.odata import KnownTenant, context_url
from processor.api.reads import Product
from processor.api.services import JSON, Store
from processor.catalog_file import shipped_catalog

router = APIRouter()


def subscribed_sku(tenant: str, product: Product) -> dict[str, Any]:
    catalog = shipped_catalog()
    sku = catalog.skus.get(product.sku_id)
    plans = [] if sku is None else [bit for bit in range(len(catalog.plan_ids)) if sku.plans >> bit & 1]
    return {
        "accountId": tenant,
        "accountName": tenant,
        "appliesTo": sku.applies_to if sku else "User",
        "capabilityStatus": product.capability_status,
        "consumedUnits": product.consumed,
        "id": f"{tenant}_{product.sku_id}",
        "prepaidUnits": {
            "enabled": product.enabled,
            "suspended": product.suspended,
            "warning": product.warning,
            "lockedOut": product.locked_out,
        },
        "servicePlans": [
            {
                "servicePlanId": catalog.plan_id(bit),
                "servicePlanName": catalog.plan_name(bit),
                "provisioningStatus": "Success",
                "appliesTo": sku.applies_to if sku else "User",
            }
            for bit in plans
        ],
        "skuId": product.sku_id,
        "skuPartNumber": product.sku_part_number,
        "subscriptionIds": [],
    }


@router.get("/subscribedSkus", tags=["Microsoft Graph: directory"])
def list_subscribed_skus(request: Request, tenant: KnownTenant, store: Store) -> JSON:
    """The tenant's products: seats bought (`prepaidUnits`), consumed, and their service plans."""
    value = [subscribed_sku(tenant.tenant_id, product) for product in store.reads.products(tenant.tenant_id)]
    return JSON({"@odata.context": context_url(request, tenant.tenant_id, "subscribedSkus"), "value": value})
