"""Direct assignment (SPEC §2.2): validated synchronously as one transaction, rejected whole on the first violation."""

from __future__ import annotations

from dataclasses import dataclass

from events.inputs import UserLicensesChangedData
from processor.core.catalog import Catalog
from processor.core.commands.resolve import Rejection, resolve_change
from processor.core.context import EventContext
from processor.core.holdings import enabled_plans
from processor.core.messages import INHERITED_MESSAGE, NO_LOCATION_MESSAGE
from processor.core.rules.chain import first_failure_of_request
from processor.core.rules.dependency import request_failure
from processor.core.rules.grant import Failure, Grant
from processor.core.state import ACTIVE, APPLIED_STATES, EntryKey, TenantState, User


@dataclass(frozen=True, slots=True)
class DirectChange:
    adds: list[tuple[str, int]]  # (skuId, disabled mask)
    removes: list[str]  # skuIds whose direct entry goes


def validate_direct_change(tenant: TenantState, user: User, data: UserLicensesChangedData) -> DirectChange | Rejection:
    catalog = tenant.catalog
    change = resolve_change(catalog, data.addLicenses, data.removeLicenses)
    if isinstance(change, Rejection):
        return change
    adds, removes = change
    direct_removes = _direct_removes(catalog, user, removes)
    if isinstance(direct_removes, Rejection):
        return direct_removes
    if adds and not user.usage_location:
        return Rejection("InvalidUsageLocation", NO_LOCATION_MESSAGE, None)

    after = _plans_after(catalog, user, adds, direct_removes)
    grants = _grants(catalog, user, adds, after)

    def dependencies() -> Failure | None:
        added = enabled_after = 0
        for grant in grants:
            added |= grant.plans
        for plans in after.values():
            enabled_after |= plans
        return request_failure(catalog, enabled_plans(catalog, user), enabled_after, added)

    failure = first_failure_of_request(tenant, grants, dependencies)
    if failure is not None:
        code, detail = failure
        return Rejection(code, detail["message"], detail)
    return DirectChange(adds, direct_removes)


def _direct_removes(catalog: Catalog, user: User, removes: list[str]) -> list[str] | Rejection:
    """The SKUs whose direct entry the request removes; an inherited-only SKU cannot be removed from the user."""
    direct_removes = []
    for sku_id in removes:
        if (sku_id, None) in user.entries:
            direct_removes.append(sku_id)
        elif any(key[0] == sku_id for key in user.entries):
            return Rejection("InheritedLicense", INHERITED_MESSAGE, {"sku": catalog.sku(sku_id).part_number})
    return direct_removes


def _plans_after(catalog: Catalog, user: User, adds: list[tuple[str, int]], removes: list[str]) -> dict[EntryKey, int]:
    """Plans per applied entry after the whole request: removals first, then the adds replace direct entries."""
    after: dict[EntryKey, int] = {}
    for key, entry in user.entries.items():
        if entry.state in APPLIED_STATES and not (key[1] is None and key[0] in removes):
            after[key] = catalog.skus[key[0]].plans & ~entry.disabled
    for sku_id, disabled in adds:
        after[(sku_id, None)] = catalog.skus[sku_id].plans & ~disabled
    return after


def _grants(catalog: Catalog, user: User, adds: list[tuple[str, int]], after: dict[EntryKey, int]) -> list[Grant]:
    """One grant per licence added, judged in the user's own location (SPEC §2.9) beside the user's other SKUs after
    the request's own removals."""
    adding = tuple(sku_id for sku_id, _ in adds)
    grants = []
    for sku_id, disabled in adds:
        beside = 0
        for (other_sku, _), other_plans in after.items():
            if other_sku != sku_id:
                beside |= other_plans
        plans = catalog.skus[sku_id].plans & ~disabled
        grants.append(Grant(user, sku_id, plans, user.usage_location, "user", beside, adding=adding))
    return grants


def apply_direct_change(ctx: EventContext, user: User, change: DirectChange) -> None:
    for sku_id in change.removes:
        ctx.drop_entry(user, (sku_id, None))
    for sku_id, disabled in change.adds:
        ctx.set_entry(user, (sku_id, None), ACTIVE, disabled, requested=disabled)
