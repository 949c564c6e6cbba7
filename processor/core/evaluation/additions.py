"""Phase 3 (SPEC §2.5): additions, one bundle per source group in membership order, all or nothing (P7)."""

from __future__ import annotations

from processor.core.catalog import Catalog
from processor.core.context import EventContext
from processor.core.holdings import enabled_plans
from processor.core.messages import fallback_location_note
from processor.core.rules.chain import first_failure
from processor.core.rules.grant import Failure, Grant
from processor.core.rules.location import effective_location
from processor.core.rules.seats import seat_failure
from processor.core.rules.sibling import sibling_failure
from processor.core.state import ACTIVE, APPLIED_STATES, ERROR, UNIQUENESS, Group, TenantState, User

Bundle = list[tuple[str, int]]  # (skuId, disabled mask) of the licences a group has still to give the user


def add_bundles(ctx: EventContext, user: User, sources: list[Group]) -> None:
    """Per source group, the SKUs not yet applied: each judged by the check chain; applied all together if none
    fails, else each recorded in Error with its own failure or, if it passed, its siblings' (`Other`)."""
    tenant = ctx.tenant
    catalog = tenant.catalog
    location = effective_location(tenant, user)  # the same for every bundle of this evaluation
    applied: int | None = None  # the user's enabled plans, once a bundle needs them
    for group in sources:
        bundle = _bundle(user, group)
        if not bundle:
            continue
        if applied is None:
            applied = enabled_plans(catalog, user)
        grants = _grants(catalog, user, bundle, applied, location)
        failures: dict[str, Failure] = {}
        for grant in grants:
            failure = first_failure(tenant, grant)
            if failure is not None:
                failures[grant.sku_id] = failure
        if not failures:
            _apply(ctx, user, group, bundle, location)
            for grant in grants:
                applied |= grant.plans
        elif _skipped_silently(tenant, failures):
            for sku_id, _ in bundle:
                ctx.drop_entry(user, (sku_id, group.group_id))
        else:
            _fail(ctx, user, group, bundle, failures)


def _bundle(user: User, group: Group) -> Bundle:
    """The group's licences not yet applied for the user (new ones and those in Error), in assignment order."""
    entries = user.entries
    group_id = group.group_id
    bundle = []
    for sku_id, disabled in group.licenses.items():
        entry = entries.get((sku_id, group_id))
        if entry is None or entry.state not in APPLIED_STATES:
            bundle.append((sku_id, disabled))
    return bundle


def _grants(
    catalog: Catalog, user: User, bundle: Bundle, applied: int, location: tuple[str | None, str]
) -> list[Grant]:
    """One grant per licence of the bundle: beside the user's applied plans and the bundle's earlier licences, its
    prerequisites met by the applied plans or anything in the bundle."""
    skus = catalog.skus
    bundle_plans = 0
    for sku_id, disabled in bundle:
        bundle_plans |= skus[sku_id].plans & ~disabled
    adding = tuple(sku_id for sku_id, _ in bundle)
    grants = []
    earlier = 0
    for sku_id, disabled in bundle:
        plans = skus[sku_id].plans & ~disabled
        grants.append(Grant(user, sku_id, plans, *location, applied | earlier, applied | bundle_plans, adding))
        earlier |= plans
    return grants


def _skipped_silently(tenant: TenantState, failures: dict[str, Failure]) -> bool:
    """`proxyConflictMode = silentSkip` (the 2017 preview): a bundle failing uniqueness leaves no trace at all."""
    return tenant.settings.proxy_conflict_mode == "silentSkip" and any(
        code == UNIQUENESS for code, _ in failures.values()
    )


def _fail(ctx: EventContext, user: User, group: Group, bundle: Bundle, failures: dict[str, Failure]) -> None:
    catalog = ctx.tenant.catalog
    for sku_id, disabled in bundle:
        code, detail = failures.get(sku_id) or sibling_failure(catalog, failures)
        ctx.set_entry(user, (sku_id, group.group_id), ERROR, disabled, code, detail)


def _apply(ctx: EventContext, user: User, group: Group, bundle: Bundle, location: tuple[str | None, str]) -> None:
    effective, source = location
    note = fallback_location_note(effective) if source == "tenant" else None
    for sku_id, disabled in bundle:
        ctx.set_entry(user, (sku_id, group.group_id), ACTIVE, disabled, detail=note)


def regrant_direct(ctx: EventContext, user: User) -> None:
    """Direct entries waiting in Error for a seat (only a restore leaves one: the seat was released while the user
    was deleted) take one when it is free. Their intent was validated when assigned (SPEC §2.2): only the seat is
    asked again."""
    tenant = ctx.tenant
    for key, entry in list(user.entries.items()):
        if key[1] is None and entry.state == ERROR:
            grant = Grant(user, entry.sku_id, 0, user.usage_location, "user", adding=(entry.sku_id,))
            failure = seat_failure(tenant, grant)
            if failure is None:
                ctx.set_entry(user, key, ACTIVE, entry.disabled)
            else:
                ctx.set_entry(user, key, ERROR, entry.disabled, *failure)
