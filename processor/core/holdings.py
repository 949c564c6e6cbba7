"""What a user's applied entries add up to: the plans it has enabled and the SKUs it holds (SPEC §2.6, §2.7)."""

from __future__ import annotations

from processor.core.catalog import Catalog
from processor.core.state import APPLIED_STATES, EntryKey, User


def enabled_plans(catalog: Catalog, user: User) -> int:
    """Plans the user effectively has: the union over applied entries (SPEC §2.7)."""
    enabled = 0
    skus = catalog.skus
    for entry in user.entries.values():
        if entry.state in APPLIED_STATES:
            enabled |= skus[entry.sku_id].plans & ~entry.disabled
    return enabled


def enabled_without(catalog: Catalog, user: User, key: EntryKey, disabled: int | None) -> int:
    """The user's enabled plans if entry `key` had the `disabled` mask instead (None: if it were gone)."""
    enabled = 0
    skus = catalog.skus
    for other_key, entry in user.entries.items():
        if entry.state in APPLIED_STATES:
            if other_key != key:
                enabled |= skus[entry.sku_id].plans & ~entry.disabled
            elif disabled is not None:
                enabled |= skus[entry.sku_id].plans & ~disabled
    return enabled


def holds_sku(user: User, sku_id: str) -> bool:
    """Whether some applied entry of the user, from any source, is of the SKU."""
    for entry in user.entries.values():
        if entry.sku_id == sku_id and entry.state in APPLIED_STATES:
            return True
    return False
