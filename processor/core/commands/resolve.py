"""Turning the publisher's SKU and plan references (GUID or name, CONTRACT §2) into catalogue identities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from events.inputs import LicenseToAdd
from processor.core.catalog import Catalog

DUPLICATE_LICENSE = "DuplicateLicense"  # as Graph's assignLicense, which refuses a SKU named twice in one body


@dataclass(frozen=True, slots=True)
class Rejection:
    """A command refused synchronously: `error` is one of the rejection codes of CONTRACT §6, or `DuplicateLicense`,
    `UnknownGroup`, `MemberTypeMismatch`."""

    error: str
    message: str
    detail: dict[str, Any] | None


def resolve_skus(catalog: Catalog, refs: Sequence[str]) -> list[str] | Rejection:
    sku_ids = []
    for ref in refs:
        sku = catalog.resolve_sku(ref)
        if sku is None or sku.applies_to != "User":
            return Rejection("UnknownSku", f"SKU {ref!r} is not a user-assignable product of this tenant.", None)
        sku_ids.append(sku.sku_id)
    return sku_ids


def resolve_licenses(catalog: Catalog, licenses: Sequence[LicenseToAdd]) -> list[tuple[str, int]] | Rejection:
    """(skuId, disabled-plan mask) per license; a plan that is not part of the SKU, or a SKU listed twice (by GUID
    or part number alike), is refused."""
    resolved: dict[str, int] = {}
    for license in licenses:
        sku_ids = resolve_skus(catalog, [license.skuId])
        if isinstance(sku_ids, Rejection):
            return sku_ids
        sku = catalog.skus[sku_ids[0]]
        if sku.sku_id in resolved:
            return Rejection(
                DUPLICATE_LICENSE, f"License {sku.part_number} is listed more than once in addLicenses.", None
            )
        disabled = 0
        for ref in license.disabledPlans:
            bit = catalog.resolve_plan(ref)
            if bit is None or not sku.plans & (1 << bit):
                return Rejection("UnknownSku", f"Service plan {ref!r} is not part of SKU {sku.part_number}.", None)
            disabled |= 1 << bit
        resolved[sku.sku_id] = disabled
    return list(resolved.items())


def resolve_change(
    catalog: Catalog, adds: Sequence[LicenseToAdd], removes: Sequence[str]
) -> tuple[list[tuple[str, int]], list[str]] | Rejection:
    """An `assignLicense` body (user or group): the licences to add with their masks, the SKUs to remove."""
    resolved_adds = resolve_licenses(catalog, adds)
    if isinstance(resolved_adds, Rejection):
        return resolved_adds
    resolved_removes = resolve_skus(catalog, removes)
    if isinstance(resolved_removes, Rejection):
        return resolved_removes
    for sku_id, _ in resolved_adds:
        if sku_id in resolved_removes:
            part = catalog.skus[sku_id].part_number
            message = f"License {part} is present in both the addLicenses and removeLicenses lists."
            return Rejection(DUPLICATE_LICENSE, message, None)
    return resolved_adds, resolved_removes
