"""Direct assignment (SPEC §2.2): validated synchronously as one transaction, rejected whole on the first violation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.inputs import UserLicensesChangedData
from processor.core.commands.resolve import Rejection, resolve_change
from processor.core.context import EventContext, enabled_plans
from processor.core.messages import (
    INHERITED_MESSAGE,
    NO_LOCATION_MESSAGE,
    count_detail,
    dependency_detail,
    exclusive_detail,
    location_detail,
    uniqueness_detail,
)
from processor.core.rules.dependency import broken_by_change, unmet
from processor.core.rules.exclusivity import clashing_pairs
from processor.core.rules.location import blocked_plans
from processor.core.rules.uniqueness import shared_addresses
from processor.core.state import (
    ACTIVE,
    COUNT,
    DEPENDENCY,
    EXCLUSIVE,
    LOCATION,
    UNIQUENESS,
    User,
)


@dataclass(frozen=True, slots=True)
class DirectChange:
    adds: list[tuple[str, int]]  # (skuId, disabled mask)
    removes: list[str]  # skuIds whose direct entry goes


def validate_direct_change(ctx: EventContext, user: User, data: UserLicensesChangedData) -> DirectChange | Rejection:
    tenant = ctx.tenant
    catalog = tenant.catalog
    change = resolve_change(catalog, data.addLicenses, data.removeLicenses)
    if isinstance(change, Rejection):
        return change
    adds, removes = change

    direct_removes = []
    for sku_id in removes:
        if (sku_id, None) in user.entries:
            direct_removes.append(sku_id)
        elif any(key[0] == sku_id for key in user.entries):
            return Rejection("InheritedLicense", INHERITED_MESSAGE, {"sku": catalog.sku(sku_id).part_number})

    # Plans per applied entry after the whole request: removals first, then the adds replace direct entries.
    after_entries: dict[tuple[str, str | None], int] = {}
    for key, entry in user.entries.items():
        if entry.applied and not (key[1] is None and key[0] in direct_removes):
            after_entries[key] = catalog.skus[key[0]].plans & ~entry.disabled
    for sku_id, disabled in adds:
        after_entries[(sku_id, None)] = catalog.skus[sku_id].plans & ~disabled
    after = 0
    for plans in after_entries.values():
        after |= plans

    if adds and not user.usage_location:
        return Rejection("InvalidUsageLocation", NO_LOCATION_MESSAGE, None)
    for sku_id, disabled in adds:
        plans = catalog.skus[sku_id].plans & ~disabled
        blocked = blocked_plans(catalog, plans, user.usage_location)
        if blocked:
            return _reject(LOCATION, location_detail(catalog, blocked, user.usage_location, "user"))
        if plans & catalog.mailbox:
            shared = shared_addresses(tenant, user)
            if shared:
                return _reject(UNIQUENESS, uniqueness_detail(shared))
        other_skus = 0
        for (other_sku, _), other_plans in after_entries.items():
            if other_sku != sku_id:
                other_skus |= other_plans
        pairs = clashing_pairs(catalog.rulesets[tenant.ruleset], plans, other_skus)
        if pairs:
            return _reject(EXCLUSIVE, exclusive_detail(catalog, pairs))

    before = enabled_plans(catalog, user)
    added = 0
    for sku_id, disabled in adds:
        added |= catalog.skus[sku_id].plans & ~disabled
    broken = broken_by_change(catalog, before, after) + [
        miss for miss in unmet(catalog, added & ~before, after) if not before & miss[1]
    ]
    if broken:
        return _reject(DEPENDENCY, dependency_detail(catalog, _unique(broken)))

    for sku_id, _ in adds:
        if not ctx.holds(user, sku_id) and tenant.available(sku_id) < 1:
            return _reject(COUNT, count_detail(catalog, sku_id, [s for s, _ in adds]))
    return DirectChange(adds, direct_removes)


def apply_direct_change(ctx: EventContext, user: User, change: DirectChange) -> None:
    for sku_id in change.removes:
        ctx.drop_entry(user, (sku_id, None))
    for sku_id, disabled in change.adds:
        ctx.set_entry(user, (sku_id, None), ACTIVE, disabled, requested=disabled)


def _reject(code: str, detail: dict[str, Any]) -> Rejection:
    return Rejection(code, detail["message"], detail)


def _unique(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return list(dict.fromkeys(pairs))
