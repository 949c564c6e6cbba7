"""evaluate_user (SPEC §2.5), the group pass (§2.11) and improved-mode FIFO healing (§2.4, §2.6).

The four phases run in order for one user: withdrawals and narrowings first (so swaps and fixes are seen by the
later phases), widenings, revalidation of untouched entries, then additions bundle by bundle, all-or-nothing per
source group. Every change goes through the EventContext, which keeps seats and group error sets exact.
"""

from __future__ import annotations

from typing import Any

from processor.core.catalog import Catalog
from processor.core.context import SYSTEM_ACTOR, EventContext, enabled_plans, license_list
from processor.core.messages import (
    count_detail,
    dependency_detail,
    exclusive_detail,
    fallback_location_note,
    location_detail,
    other_detail,
    uniqueness_detail,
)
from processor.core.rules.dependency import broken_by_change, unmet
from processor.core.rules.exclusivity import clashing_pairs
from processor.core.rules.location import blocked_plans, effective_location
from processor.core.rules.uniqueness import shared_addresses
from processor.core.state import (
    ACTIVE,
    ACTIVE_WITH_ERROR,
    APPLIED_STATES,
    COMPLETE,
    COUNT,
    DEPENDENCY,
    ERROR,
    EXCLUSIVE,
    IN_PROGRESS,
    LOCATION,
    OTHER,
    QUEUED,
    UNIQUENESS,
    EntryKey,
    Group,
    User,
)

Failure = tuple[str, dict[str, Any]]  # (error code, detail)


def evaluate_user(ctx: EventContext, user: User, revalidate: bool = True) -> None:
    """Reconcile every source of the user and retry its entries in Error / ActiveWithError.

    `revalidate=False` skips phase 2b: an improved-mode profile change retries errors but leaves applied entries
    unflagged until a real reprocess (SPEC S40).
    """
    if user.soft_deleted:
        return  # a deleted user's licences are frozen until restore (SPEC §2.16)
    tenant = ctx.tenant
    ctx.touch(user)
    # The licensable source groups, in membership order. Found once: the phases change entries, never memberships
    # or group configurations.
    groups = tenant.groups
    sources: list[Group] = []
    for group_id in user.groups:
        group = groups.get(group_id)
        if group is not None and group.licenses and not group.deleted:
            sources.append(group)

    if user.entries:  # phases 1, 2 and 2b work on existing entries only
        desired: dict[EntryKey, int] = {}
        for group in sources:
            group_id = group.group_id
            for sku_id, disabled in group.licenses.items():
                desired[(sku_id, group_id)] = disabled
        for key, entry in user.entries.items():
            if key[1] is None:
                desired[key] = entry.requested
        if not _settled(tenant.catalog, user, desired):
            touched = _withdraw_and_narrow(ctx, user, desired)
            touched |= _widen(ctx, user, desired, touched)
            if revalidate:
                _revalidate(ctx, user, touched)
    if sources:
        _add_bundles(ctx, user, tenant.catalog, sources)


def _settled(catalog: Catalog, user: User, desired: dict[EntryKey, int]) -> bool:
    """Whether phases 1, 2 and 2b have nothing to do (the common case: a membership change elsewhere).

    So when every entry has exactly the plans its source wants (nothing to withdraw, narrow or widen) and every
    applied entry is Active with no location-restricted plan enabled (nothing for the revalidation to flag or clear).
    """
    skus = catalog.skus
    restricted = catalog.restricted
    for key, entry in user.entries.items():
        if desired.get(key) != entry.disabled:
            return False
        state = entry.state
        if state in APPLIED_STATES and (state != ACTIVE or skus[entry.sku_id].plans & ~entry.disabled & restricted):
            return False
    return True


def _withdraw_and_narrow(ctx: EventContext, user: User, desired: dict[EntryKey, int]) -> set[EntryKey]:
    """Phase 1: entries no longer desired, or desired with fewer plans; blocked if a dependency would break."""
    tenant = ctx.tenant
    catalog = tenant.catalog
    skus = catalog.skus
    touched: set[EntryKey] = set()
    for key, entry in list(user.entries.items()):
        sku_id, group_id = key
        if group_id is None:
            continue  # direct entries change only through direct commands (SPEC §2.2)
        want = desired.get(key)
        if entry.state not in APPLIED_STATES:
            if want is None:
                ctx.drop_entry(user, key)  # never applied: the intent is simply gone
            elif want != entry.disabled:
                ctx.set_entry(user, key, entry.state, want, entry.error, entry.detail)
            continue
        plans = skus[sku_id].plans
        if want is not None and not (want & ~entry.disabled & plans):
            continue  # nothing to switch off
        new_disabled = plans if want is None else entry.disabled | want
        before = enabled_plans(catalog, user)
        after = _enabled_without(catalog, user, key, new_disabled)
        broken = broken_by_change(catalog, before, after)
        touched.add(key)
        if not broken:
            if want is None:
                ctx.drop_entry(user, key)
            else:
                ctx.set_entry(user, key, ACTIVE, new_disabled)
            continue
        group = tenant.groups.get(group_id)
        group_unassigned = group is None or group.deleted or (group_id in user.groups and sku_id not in group.licenses)
        if (
            want is None
            and group_unassigned
            and tenant.settings.dependency_on_group_removal == "convertToDirect"
            and (sku_id, None) not in user.entries
        ):
            ctx.drop_entry(user, key)
            ctx.set_entry(user, (sku_id, None), ACTIVE, entry.disabled, requested=entry.disabled)
            continue
        detail = dependency_detail(catalog, broken)
        ctx.set_entry(user, key, ACTIVE_WITH_ERROR, entry.disabled, DEPENDENCY, detail)
    return touched


def _enabled_without(catalog: Catalog, user: User, key: EntryKey, new_disabled: int) -> int:
    """The user's enabled plans if entry `key` had `new_disabled` (all plans disabled = withdrawn)."""
    enabled = 0
    for other_key, entry in user.entries.items():
        if entry.applied:
            disabled = new_disabled if other_key == key else entry.disabled
            enabled |= catalog.skus[entry.sku_id].plans & ~disabled
    return enabled


def _widen(ctx: EventContext, user: User, desired: dict[EntryKey, int], blocked: set[EntryKey]) -> set[EntryKey]:
    """Phase 2: applied entries whose intent enables more plans; new plans pass location, uniqueness, exclusivity."""
    tenant = ctx.tenant
    catalog = tenant.catalog
    skus = catalog.skus
    touched: set[EntryKey] = set()
    for key, entry in list(user.entries.items()):
        want = desired.get(key)
        if want is None or entry.state not in APPLIED_STATES or (key in blocked and entry.state == ACTIVE_WITH_ERROR):
            continue
        plans = skus[entry.sku_id].plans
        newly = entry.disabled & ~want & plans
        if not newly:
            continue
        touched.add(key)
        others = _enabled_except(catalog, user, key)
        failure = _check_plans(ctx, user, newly, others, direct=key[1] is None)
        if failure is None:
            ctx.set_entry(user, key, ACTIVE, want)
        elif failure[0] == UNIQUENESS and tenant.settings.proxy_conflict_mode == "silentSkip":
            continue  # 2017 preview: skipped without a trace
        else:
            ctx.set_entry(user, key, ACTIVE_WITH_ERROR, entry.disabled, failure[0], failure[1])
    return touched


def _enabled_except(catalog: Catalog, user: User, key: EntryKey) -> int:
    enabled = 0
    for other_key, entry in user.entries.items():
        if entry.applied and other_key != key:
            enabled |= catalog.skus[entry.sku_id].plans & ~entry.disabled
    return enabled


def _check_plans(ctx: EventContext, user: User, plans: int, existing: int, direct: bool) -> Failure | None:
    """Location, uniqueness and exclusivity of plans about to be enabled (phase 2 order)."""
    tenant = ctx.tenant
    catalog = tenant.catalog
    if direct:
        location, source = user.usage_location, "user"
    else:
        location, source = effective_location(tenant, user)
    blocked = blocked_plans(catalog, plans, location)
    if blocked:
        return LOCATION, location_detail(catalog, blocked, location, source)
    if plans & catalog.mailbox:
        shared = shared_addresses(tenant, user)
        if shared:
            return UNIQUENESS, uniqueness_detail(shared)
    pairs = clashing_pairs(catalog.rulesets[tenant.ruleset], plans, existing)
    if pairs:
        return EXCLUSIVE, exclusive_detail(catalog, pairs)
    return None


def _revalidate(ctx: EventContext, user: User, touched: set[EntryKey]) -> None:
    """Phase 2b: untouched applied entries; a plan no longer allowed in the location is flagged, never withdrawn."""
    tenant = ctx.tenant
    catalog = tenant.catalog
    skus = catalog.skus
    # The location of a group entry, and of a direct one (the user's own, else the tenant's country).
    group_location = effective_location(tenant, user)
    direct_location = (user.usage_location, "user") if user.usage_location is not None else (tenant.country, "tenant")
    for key, entry in list(user.entries.items()):
        if key in touched or entry.state not in APPLIED_STATES:
            continue
        enabled = skus[entry.sku_id].plans & ~entry.disabled
        location, source = direct_location if key[1] is None else group_location
        blocked = blocked_plans(catalog, enabled, location)
        if blocked:
            detail = location_detail(catalog, blocked, location, source)
            ctx.set_entry(user, key, ACTIVE_WITH_ERROR, entry.disabled, LOCATION, detail)
        elif entry.state == ACTIVE_WITH_ERROR:
            ctx.set_entry(user, key, ACTIVE, entry.disabled)


def _add_bundles(ctx: EventContext, user: User, catalog: Catalog, sources: list[Group]) -> None:
    """Phase 3: per source group, in membership order, the SKUs not yet applied — all or nothing."""
    tenant = ctx.tenant
    ruleset = catalog.rulesets[tenant.ruleset]
    skus = catalog.skus
    mailbox = catalog.mailbox
    entries = user.entries
    applied: int | None = None  # the user's enabled plans, once a bundle needs them
    # Neither depends on the entries, so both hold for every bundle of this evaluation.
    location, location_source = effective_location(tenant, user)
    shared: list[tuple[str, list[str]]] | None = None  # the user's shared proxy addresses, once a mailbox plan asks
    for group in sources:
        group_id = group.group_id
        bundle = []
        for sku_id, disabled in group.licenses.items():
            entry = entries.get((sku_id, group_id))
            if entry is None or entry.state not in APPLIED_STATES:
                bundle.append((sku_id, disabled))
        if not bundle:
            continue
        if applied is None:
            applied = enabled_plans(catalog, user)
        bundle_plans = 0
        for sku_id, disabled in bundle:
            bundle_plans |= skus[sku_id].plans & ~disabled
        failures: dict[str, Failure] = {}
        earlier = 0
        skip_silently = False
        for sku_id, disabled in bundle:
            plans = skus[sku_id].plans & ~disabled
            failure: Failure | None = None
            blocked = blocked_plans(catalog, plans, location)
            if not blocked and plans & mailbox and shared is None:
                shared = shared_addresses(tenant, user)
            if blocked:
                failure = LOCATION, location_detail(catalog, blocked, location, location_source)
            elif plans & mailbox and shared:
                failure = UNIQUENESS, uniqueness_detail(shared)
                skip_silently = skip_silently or tenant.settings.proxy_conflict_mode == "silentSkip"
            elif pairs := clashing_pairs(ruleset, plans, applied | earlier):
                failure = EXCLUSIVE, exclusive_detail(catalog, pairs)
            elif missing := unmet(catalog, plans, applied | bundle_plans):
                failure = DEPENDENCY, dependency_detail(catalog, missing)
            elif tenant.available(sku_id) < 1 and not ctx.holds(user, sku_id):  # the cheaper test first
                # Bundle SKUs are distinct, so no earlier SKU of the bundle can hold this seat tentatively.
                failure = COUNT, count_detail(catalog, sku_id, [s for s, _ in bundle])
            earlier |= plans
            if failure is not None:
                failures[sku_id] = failure
        if skip_silently:
            for sku_id, _ in bundle:
                ctx.drop_entry(user, (sku_id, group_id))
            continue
        if not failures:
            note = fallback_location_note(location) if location_source == "tenant" else None
            for sku_id, disabled in bundle:
                ctx.set_entry(user, (sku_id, group_id), ACTIVE, disabled, detail=note)
            applied |= bundle_plans
            continue
        sibling_failure: Failure | None = None  # what a SKU that passed fails with: its siblings' failures
        for sku_id, disabled in bundle:
            failure = failures.get(sku_id)
            if failure is None:
                if sibling_failure is None:
                    failed_codes = {failed_sku: code for failed_sku, (code, _) in failures.items()}
                    sibling_failure = OTHER, other_detail(catalog, failed_codes)
                failure = sibling_failure
            ctx.set_entry(user, (sku_id, group_id), ERROR, disabled, failure[0], failure[1])


def group_pass(ctx: EventContext, group: Group) -> None:
    """Evaluate every direct user member and every user holding an entry from the group (SPEC §2.11)."""
    tenant = ctx.tenant
    group_id = group.group_id
    ctx.watch_group(group_id)
    _processing(ctx, group, QUEUED, 0, 0)
    _processing(ctx, group, IN_PROGRESS, 0, 0)
    start = _audit(ctx, group, "Start applying group based license to users", None)
    start["modifiedProperties"] = {"assignedLicenses": license_list(tenant.catalog, group.licenses)}
    ctx.emit("AuditRecorded", start)
    user_ids = list(group.members)
    user_ids += sorted(group.sourced.difference(group.members))
    for user_id in user_ids:
        user = tenant.users.get(user_id)
        if user is not None:
            evaluate_user(ctx, user)
    ctx.flush_users()
    failed = sum(1 for user_id in user_ids if user_id in group.errors)
    succeeded = len(user_ids) - failed
    _processing(ctx, group, COMPLETE, succeeded, failed)
    result = f"Users successfully assigned licenses: {succeeded}, Users for whom license assignment failed: {failed}."
    ctx.emit("AuditRecorded", _audit(ctx, group, "Finish applying group based license to users", result))


def _processing(ctx: EventContext, group: Group, state: str, succeeded: int, failed: int) -> None:
    group.processing_state = state
    ctx.emit(
        "GroupLicenseProcessingChanged",
        {"groupId": group.group_id, "state": state, "succeeded": succeeded, "failed": failed},
    )


def _audit(ctx: EventContext, group: Group, activity: str, result: str | None) -> dict[str, Any]:
    return {
        "activity": activity,
        "actor": SYSTEM_ACTOR,
        "category": "GroupManagement",
        "targetId": group.group_id,
        "result": result,
    }


def heal_waiting_users(ctx: EventContext) -> None:
    """Improved mode: seats that became available go to users waiting on them, oldest error first (SPEC §2.6)."""
    tenant = ctx.tenant
    catalog = tenant.catalog
    for sku_id in sorted(ctx.freed | ctx.raised, key=lambda s: catalog.skus[s].part_number):
        waiters = tenant.count_waiters.get(sku_id)
        for user_id, _ in list(waiters or ()):
            if tenant.available(sku_id) < 1:
                break
            user = tenant.users.get(user_id)
            if user is not None:
                evaluate_user(ctx, user)
