"""evaluate_user (SPEC §2.5): reconcile every source of a user and retry its entries in Error / ActiveWithError."""

from __future__ import annotations

from processor.core.catalog import Catalog
from processor.core.context import EventContext
from processor.core.evaluation.additions import add_bundles, regrant_direct
from processor.core.evaluation.revalidation import revalidate_untouched
from processor.core.evaluation.widenings import widen
from processor.core.evaluation.withdrawals import withdraw_and_narrow
from processor.core.holdings import unsettled
from processor.core.state import ACTIVE, APPLIED_STATES, EntryKey, Group, TenantState, User


def evaluate_user(ctx: EventContext, user: User, revalidate: bool = True) -> None:
    """Run the phases of SPEC §2.5 for the user.

    `revalidate=False` skips phase 2b: an improved-mode profile change retries errors but leaves applied
    entries unflagged until a real reprocess (SPEC S40).
    """
    if user.soft_deleted:
        return  # a deleted user's licences are frozen until restore (SPEC §2.16)
    tenant = ctx.tenant
    ctx.touch(user)
    # Found once: the phases change entries, never memberships or group configurations.
    sources = licensed_sources(tenant, user)
    if user.entries:  # phases 1, 2 and 2b work on existing entries only
        desired = desired_entries(user, sources)
        if not _settled(tenant.catalog, user, desired):
            touched = withdraw_and_narrow(ctx, user, desired)
            touched |= widen(ctx, user, desired, touched)
            if revalidate:
                revalidate_untouched(ctx, user, touched)
    regrant_direct(ctx, user)
    if sources:
        add_bundles(ctx, user, sources)
    holdings = user.holdings
    if holdings is not None:  # everything is reconciled now: what is left pending is known again
        holdings.pending = unsettled(tenant.catalog, user, desired_entries(user, sources))


def licensed_sources(tenant: TenantState, user: User) -> list[Group]:
    """The groups that license the user: its direct memberships with licences, not deleted, in membership order."""
    groups = tenant.groups
    sources: list[Group] = []
    for group_id in user.groups:
        group = groups.get(group_id)
        if group is not None and group.licenses and not group.deleted:
            sources.append(group)
    return sources


def desired_entries(user: User, sources: list[Group]) -> dict[EntryKey, int]:
    """The disabled mask each entry should have: its group's, or for a direct entry what the admin asked for."""
    desired: dict[EntryKey, int] = {}
    for group in sources:
        group_id = group.group_id
        for sku_id, disabled in group.licenses.items():
            desired[(sku_id, group_id)] = disabled
    for key, entry in user.entries.items():
        if key[1] is None:
            desired[key] = entry.requested
    return desired


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
