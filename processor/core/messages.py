"""Error details, product messages (SPEC §2.12, verbatim templates) and suggested fixes (SPEC §6.4).

Every error is data: a code, a structured detail naming the plans, addresses or SKUs involved, the message the
product would show, and a one-line fix an administrator can act on.

The details that depend on the catalogue alone are memoised in it (a retry that fails again, or a group pass where
every member lacks the same seat, asks for the same detail thousands of times), so one detail dict may be shared by
many entries and output events: details are never mutated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from processor.core.catalog import Catalog, bits

INHERITED_MESSAGE = "User license is inherited from a group membership and it cannot be removed directly from the user."
NO_LOCATION_MESSAGE = "License assignment cannot be done for user with invalid usage location."
PROXY_MESSAGE = "Proxy address is already being used"
GROUP_PREREQ_MESSAGE = (
    "License operation failed. Make sure that the group has necessary services before adding or removing a "
    "dependent service."
)
GROUP_HAS_LICENSES_MESSAGE = "The group has licenses assigned; remove the licenses from the group before deleting it."


def plan_ref(catalog: Catalog, bit: int) -> dict[str, str]:
    return {"servicePlanId": catalog.plan_id(bit), "servicePlanName": catalog.plan_name(bit)}


def sku_ref(catalog: Catalog, sku_id: str) -> dict[str, str]:
    return {"skuId": sku_id, "skuPartNumber": catalog.sku(sku_id).part_number}


def _memoised(
    catalog: Catalog, key: tuple[Any, ...], build: Callable[..., dict[str, Any]], *args: Any
) -> dict[str, Any]:
    """The detail built once per catalogue and key: the same problem on thousands of users shares one dict."""
    detail: dict[str, Any] | None = catalog.memo.get(key)
    if detail is None:
        detail = catalog.memo[key] = build(catalog, *args)
    return detail


def count_detail(catalog: Catalog, sku_id: str, adding: list[str]) -> dict[str, Any]:
    return _memoised(catalog, ("count", sku_id, *adding), _count_detail, sku_id, adding)


def _count_detail(catalog: Catalog, sku_id: str, adding: list[str]) -> dict[str, Any]:
    part = catalog.sku(sku_id).part_number
    names = ", ".join(catalog.sku(s).part_number for s in adding)
    return {
        "sku": sku_ref(catalog, sku_id),
        "reason": f"no {part} seat available",
        "message": (
            "Not enough licenses are available to complete this operation. Purchase more licenses or remove "
            f"unneeded licenses from users and groups for SKU [{part}]. Licenses being added: [{names}]"
        ),
        "suggestedFix": f"Buy more {part} seats or free seats elsewhere, then reprocess the user.",
    }


def exclusive_detail(catalog: Catalog, pairs: Sequence[tuple[int, int]]) -> dict[str, Any]:
    return _memoised(catalog, ("exclusive", *pairs), _exclusive_detail, pairs)


def _exclusive_detail(catalog: Catalog, pairs: Sequence[tuple[int, int]]) -> dict[str, Any]:
    first_new, first_old = pairs[0]
    return {
        "reason": "; ".join(f"{catalog.plan_name(a)} clashes with {catalog.plan_name(b)}" for a, b in pairs),
        "pairs": [{"plan": plan_ref(catalog, a), "conflictsWith": plan_ref(catalog, b)} for a, b in pairs],
        "message": (
            f"License assignment failed because service plans [{catalog.plan_id(first_new)}], "
            f"[{catalog.plan_id(first_old)}] are mutually exclusive."
        ),
        "suggestedFix": (
            "Disable the clashing plans ("
            + ", ".join(f"{catalog.plan_name(a)}/{catalog.plan_name(b)}" for a, b in pairs)
            + ") on one side, or remove the other product, then reprocess."
        ),
    }


def dependency_detail(catalog: Catalog, missing: Sequence[tuple[int, int]]) -> dict[str, Any]:
    return _memoised(catalog, ("dependency", *missing), _dependency_detail, missing)


def _dependency_detail(catalog: Catalog, missing: Sequence[tuple[int, int]]) -> dict[str, Any]:
    dependent, need = missing[0]
    needed = ", ".join(f"[{catalog.plan_id(b)}]" for b in bits(need))
    return {
        "reason": "; ".join(
            f"{catalog.plan_name(p)} needs {' or '.join(catalog.plan_name(b) for b in bits(n))}" for p, n in missing
        ),
        "missing": [
            {"plan": plan_ref(catalog, p), "requiresAnyOf": [plan_ref(catalog, b) for b in bits(n)]} for p, n in missing
        ],
        "message": (
            f"License assignment failed because service plan [{catalog.plan_id(dependent)}] depends on the "
            f"service plan(s) {needed}."
        ),
        "suggestedFix": (
            f"Give the user {' or '.join(catalog.plan_name(b) for b in bits(need))} from another source, or "
            f"disable {catalog.plan_name(dependent)}, then reprocess the user."
        ),
    }


def location_detail(catalog: Catalog, blocked: int, location: str | None, source: str) -> dict[str, Any]:
    return _memoised(catalog, ("location", blocked, location, source), _location_detail, blocked, location, source)


def _location_detail(catalog: Catalog, blocked: int, location: str | None, source: str) -> dict[str, Any]:
    names = ", ".join(catalog.plan_name(b) for b in bits(blocked))
    where = location or "(none)"
    return {
        "reason": f"{names} not offered in {where} ({source} location)",
        "location": location,
        "locationSource": source,
        "plans": [plan_ref(catalog, b) for b in bits(blocked)],
        "message": f"Service plan(s) [{names}] are not available in usage location {where}.",
        "suggestedFix": (
            f"Set a usage location where {names} is offered, or disable {names} for this user's source, then reprocess."
        ),
    }


def fallback_location_note(location: str | None) -> dict[str, Any]:
    """Not an error: the user has no usage location and was evaluated with the tenant's country (SPEC §6.12)."""
    return {
        "effectiveLocation": location,
        "locationSource": "tenant",
        "message": f"Evaluated with the tenant's country {location} because the user has no usage location.",
        "suggestedFix": "Set the user's usage location so that licensing does not depend on the tenant default.",
    }


def uniqueness_detail(shared: list[tuple[str, list[str]]]) -> dict[str, Any]:
    return {
        "reason": "; ".join(f"{a} also used by {', '.join(h)}" for a, h in shared),
        "addresses": [{"address": address, "alsoUsedBy": holders} for address, holders in shared],
        "message": PROXY_MESSAGE,
        "suggestedFix": (
            "Remove the duplicate proxy address ("
            + ", ".join(f"{a} also on {', '.join(h)}" for a, h in shared)
            + ") from one of the objects, then reprocess."
        ),
    }


def other_detail(catalog: Catalog, failed: dict[str, str]) -> dict[str, Any]:
    return _memoised(catalog, ("other", *failed.items()), _other_detail, failed)


def _other_detail(catalog: Catalog, failed: dict[str, str]) -> dict[str, Any]:
    causes = [{**sku_ref(catalog, s), "error": code} for s, code in failed.items()]
    names = ", ".join(f"{c['skuPartNumber']} ({c['error']})" for c in causes)
    return {
        "reason": f"sibling license failed: {names}",
        "causedBy": causes,
        "message": f"Not assigned because another license of the same group failed: {names}.",
        "suggestedFix": f"Fix the failing sibling license ({names}); this one is then assigned with it.",
    }
