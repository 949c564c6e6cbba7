"""What a user's applied entries add up to: the plans it has enabled, per SKU and in all, and the SKUs it holds
(SPEC §2.6, §2.7).

For most users these are a pass over a handful of entries. A user in thousands of licensed groups has thousands of
entries, and a pass over them per question made each of its membership changes cost O(its groups), so adding it
to N groups cost O(N²) (10,000 groups: 72 s of CPU). From `INDEXED_FROM` entries on, the user carries a `Holdings`
index instead, kept exact by the EventContext on every entry change: per SKU, how many applied entries carry each
disabled mask. The answers then cost O(the distinct masks), and `pending` lets a membership change skip the phases
that have nothing to do (evaluation/membership.py); bench/many_groups.py measures the difference.
"""

from __future__ import annotations

from processor.core.catalog import Catalog
from processor.core.state import ACTIVE, APPLIED_STATES, ERROR_STATES, Entry, EntryKey, Holdings, User

# Entries from which a user is indexed: below it a pass over the entries is as cheap as the index's upkeep, and
# most users never reach it, so they carry no index (memory).
INDEXED_FROM = 32


def entry_changed(user: User, sku_id: str, before: tuple[str, int] | None, after: tuple[str, int] | None) -> None:
    """Keep the index exact: an entry of the SKU went from `before` to `after` (state, disabled mask), None meaning
    absent. Any change leaves `pending` unknown; an evaluation works it out again. A user reaching `INDEXED_FROM`
    entries (or whose index a snapshot left out) is indexed here, from its entries as they are now."""
    holdings = user.holdings
    if holdings is None:
        if len(user.entries) >= INDEXED_FROM:
            user.holdings = holdings = Holdings()
            for entry in user.entries.values():
                if entry.state in APPLIED_STATES:
                    _count(holdings, entry.sku_id, entry.disabled, 1)
        return
    holdings.pending = None
    if before is not None and before[0] in APPLIED_STATES:
        _count(holdings, sku_id, before[1], -1)
    if after is not None and after[0] in APPLIED_STATES:
        _count(holdings, sku_id, after[1], 1)


def _count(holdings: Holdings, sku_id: str, mask: int, change: int) -> None:
    counts = holdings.masks.setdefault(sku_id, {})
    count = counts.get(mask, 0) + change
    if count:
        counts[mask] = count
    else:
        del counts[mask]
        if not counts:
            del holdings.masks[sku_id]


def enabled_by_sku(catalog: Catalog, user: User) -> dict[str, int]:
    """Per SKU the user holds, the plans its applied entries enable: the union over its sources (SPEC §2.7)."""
    skus = catalog.skus
    per_sku: dict[str, int] = {}
    holdings = user.holdings
    if holdings is not None:
        for sku_id, counts in holdings.masks.items():
            plans = skus[sku_id].plans
            enabled = 0
            for disabled in counts:
                enabled |= plans & ~disabled
            per_sku[sku_id] = enabled
        return per_sku
    for entry in user.entries.values():
        if entry.state in APPLIED_STATES:
            sku_id = entry.sku_id
            per_sku[sku_id] = per_sku.get(sku_id, 0) | (skus[sku_id].plans & ~entry.disabled)
    return per_sku


def enabled_plans(catalog: Catalog, user: User) -> int:
    """Plans the user effectively has: the union over applied entries (SPEC §2.7)."""
    holdings = user.holdings
    if holdings is not None:
        return _enabled(catalog, holdings, None)
    enabled = 0
    skus = catalog.skus
    for entry in user.entries.values():
        if entry.state in APPLIED_STATES:
            enabled |= skus[entry.sku_id].plans & ~entry.disabled
    return enabled


def enabled_without(catalog: Catalog, user: User, key: EntryKey, disabled: int | None) -> int:
    """The user's enabled plans if its applied entry `key` had the `disabled` mask instead (None: if it were gone)."""
    entry = user.entries.get(key)
    if entry is None or entry.state not in APPLIED_STATES:
        return enabled_plans(catalog, user)
    plans = catalog.skus[entry.sku_id].plans
    replaced = plans & ~disabled if disabled is not None else 0
    holdings = user.holdings
    if holdings is not None:
        return _enabled(catalog, holdings, entry) | replaced
    enabled = replaced
    skus = catalog.skus
    for other in user.entries.values():
        if other is not entry and other.state in APPLIED_STATES:
            enabled |= skus[other.sku_id].plans & ~other.disabled
    return enabled


def _enabled(catalog: Catalog, holdings: Holdings, without: Entry | None) -> int:
    """The union of the index's masks, one applied entry (`without`) left out."""
    skus = catalog.skus
    enabled = 0
    for sku_id, counts in holdings.masks.items():
        plans = skus[sku_id].plans
        for disabled, count in counts.items():
            if without is None or count > 1 or disabled != without.disabled or sku_id != without.sku_id:
                enabled |= plans & ~disabled
    return enabled


def holds_sku(user: User, sku_id: str) -> bool:
    """Whether some applied entry of the user, from any source, is of the SKU."""
    holdings = user.holdings
    if holdings is not None:
        return sku_id in holdings.masks
    for entry in user.entries.values():
        if entry.sku_id == sku_id and entry.state in APPLIED_STATES:
            return True
    return False


def standing_in_group(catalog: Catalog, user: User, group_id: str) -> tuple[bool, bool]:
    """Whether the user has entries sourced from the group, and whether one of them is in error. An indexed user
    with more entries than the catalogue has SKUs has them looked up SKU by SKU, so the cost is bounded by the
    smaller of the two."""
    entries = user.entries
    sourced = False
    if user.holdings is not None and len(entries) > len(catalog.skus):
        for sku_id in catalog.skus:
            entry = entries.get((sku_id, group_id))
            if entry is not None:
                if entry.state in ERROR_STATES:
                    return True, True
                sourced = True
    else:
        for (_, source), entry in entries.items():
            if source == group_id:
                if entry.state in ERROR_STATES:
                    return True, True
                sourced = True
    return sourced, False


def settled(catalog: Catalog, entry: Entry | None, want: int | None) -> bool:
    """Whether an evaluation would leave the entry as it is: it exists, is Active with the plans its source wants
    (`want`; None: no source wants it), and has no location-restricted plan for the revalidation to judge."""
    return (
        entry is not None
        and want == entry.disabled
        and entry.state == ACTIVE
        and not catalog.skus[entry.sku_id].plans & ~entry.disabled & catalog.restricted
    )


def is_pending(catalog: Catalog, entry: Entry | None, want: int | None) -> bool:
    """Whether an evaluation would act on a key: an entry not settled, or a wanted licence without an entry (a
    bundle skipped silently, SPEC §2.10)."""
    return want is not None if entry is None else not settled(catalog, entry, want)


def unsettled(catalog: Catalog, user: User, desired: dict[EntryKey, int]) -> set[EntryKey]:
    """The keys an evaluation would act on, given what each source wants (`desired`)."""
    pending = {key for key, entry in user.entries.items() if is_pending(catalog, entry, desired.get(key))}
    pending.update(key for key in desired if key not in user.entries)
    return pending
