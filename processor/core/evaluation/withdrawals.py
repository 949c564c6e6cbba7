"""Phase 1 (SPEC §2.5): withdrawals and narrowings, blocked when a prerequisite would break (P4, §2.8, §2.14)."""

from __future__ import annotations

from processor.core.context import EventContext
from processor.core.holdings import enabled_plans, enabled_without
from processor.core.rules.dependency import withdrawal_failure
from processor.core.state import ACTIVE, ACTIVE_WITH_ERROR, APPLIED_STATES, Entry, EntryKey, TenantState, User


def withdraw_and_narrow(ctx: EventContext, user: User, desired: dict[EntryKey, int]) -> set[EntryKey]:
    """Entries no longer desired, or desired with fewer plans; returns the applied ones it withdrew or narrowed, or
    tried to."""
    skus = ctx.tenant.catalog.skus
    touched: set[EntryKey] = set()
    for key, entry in list(user.entries.items()):
        if key[1] is None:
            continue  # direct entries change only through direct commands (SPEC §2.2)
        want = desired.get(key)
        if entry.state not in APPLIED_STATES:
            _follow_intent(ctx, user, key, entry, want)
        elif want is None or want & ~entry.disabled & skus[key[0]].plans:  # something to switch off
            touched.add(key)
            withdraw(ctx, user, key, entry, want)
    return touched


def _follow_intent(ctx: EventContext, user: User, key: EntryKey, entry: Entry, want: int | None) -> None:
    """An entry never applied follows its intent: gone with it (nothing was applied), or with its new plans."""
    if want is None:
        ctx.drop_entry(user, key)
    elif want != entry.disabled:
        ctx.set_entry(user, key, entry.state, want, entry.error, entry.detail)


def withdraw(ctx: EventContext, user: User, key: EntryKey, entry: Entry, want: int | None) -> None:
    """Switch off what the intent no longer enables (everything, if the intent is gone), unless that breaks a
    prerequisite: then the entry stays applied as it was, flagged ActiveWithError (P4)."""
    catalog = ctx.tenant.catalog
    new_disabled = catalog.skus[key[0]].plans if want is None else entry.disabled | want
    after = enabled_without(catalog, user, key, new_disabled)
    failure = withdrawal_failure(catalog, enabled_plans(catalog, user), after)
    if failure is None:
        if want is None:
            ctx.drop_entry(user, key)
        else:
            ctx.set_entry(user, key, ACTIVE, new_disabled)
    elif want is None and _converts_to_direct(ctx.tenant, user, key):
        ctx.drop_entry(user, key)
        ctx.set_entry(user, (key[0], None), ACTIVE, entry.disabled, requested=entry.disabled)
    else:
        ctx.set_entry(user, key, ACTIVE_WITH_ERROR, entry.disabled, *failure)


def _converts_to_direct(tenant: TenantState, user: User, key: EntryKey) -> bool:
    """`dependencyOnGroupRemoval = convertToDirect` (SPEC §2.14): a blocked entry whose group no longer assigns the
    SKU (or is gone) becomes a direct entry with the same plans, unless the user has a direct one already."""
    sku_id, group_id = key
    group = tenant.groups.get(group_id) if group_id is not None else None
    unassigned = group is None or group.deleted or (group_id in user.groups and sku_id not in group.licenses)
    return (
        unassigned
        and tenant.settings.dependency_on_group_removal == "convertToDirect"
        and (sku_id, None) not in user.entries
    )
