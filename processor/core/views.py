"""How licences and seats look on the wire: a user's `assignedLicenses`, a group's, a product's usage."""

from __future__ import annotations

from typing import Any

from processor.core.catalog import Catalog
from processor.core.holdings import enabled_by_sku
from processor.core.state import TenantState, User

LicensesView = tuple[tuple[str, int], ...]  # ((skuId, effective disabled mask), ...)


def licenses_view(catalog: Catalog, user: User) -> LicensesView:
    """`assignedLicenses`: one row per held SKU, disabled = plans no applied entry enables (SPEC §1.8)."""
    return licence_rows(catalog, enabled_by_sku(catalog, user))


def licence_rows(catalog: Catalog, per_sku: dict[str, int]) -> LicensesView:
    """(skuId, disabled mask) per SKU from the plans enabled per SKU, by part number."""
    skus = catalog.skus
    rows = [(sku_id, skus[sku_id].plans & ~enabled) for sku_id, enabled in per_sku.items()]
    rows.sort(key=lambda row: skus[row[0]].part_number)
    return tuple(rows)


def license_list(catalog: Catalog, licenses: dict[str, int]) -> list[dict[str, Any]]:
    """A group's `assignedLicenses` on the wire, in assignment order."""
    return [
        {
            "skuId": sku_id,
            "skuPartNumber": catalog.skus[sku_id].part_number,
            "disabledPlans": catalog.plan_id_list(disabled),
        }
        for sku_id, disabled in licenses.items()
    ]


def product_usage(tenant: TenantState, sku_id: str) -> dict[str, Any]:
    """A product's `ProductUsageChanged`: its units, the seats consumed and those still available."""
    sub = tenant.subscriptions.get(sku_id)
    consumed = tenant.consumed.get(sku_id, 0)
    enabled, warning, suspended, locked_out = (
        (sub.enabled, sub.warning, sub.suspended, sub.locked_out) if sub else (0, 0, 0, 0)
    )
    return {
        "skuId": sku_id,
        "skuPartNumber": tenant.catalog.skus[sku_id].part_number,
        "capabilityStatus": sub.capability_status if sub else "Enabled",
        "prepaidUnits": {"enabled": enabled, "warning": warning, "suspended": suspended, "lockedOut": locked_out},
        "consumedUnits": consumed,
        "availableUnits": tenant.available(sku_id),
        "overAssigned": consumed > enabled + warning,
    }
