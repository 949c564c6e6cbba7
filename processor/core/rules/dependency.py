"""Plan prerequisites (SPEC §1.4.2): a dependent plan needs one of its prerequisites enabled, from any source."""

from __future__ import annotations

from processor.core.catalog import Catalog, bits


def unmet(catalog: Catalog, plans: int, available: int) -> tuple[tuple[int, int], ...]:
    """(dependent plan, prerequisites mask) for each plan of `plans` that no plan of `available` satisfies."""
    dependents = plans & catalog.dependents
    if not dependents:
        return ()
    missing = catalog.memo.get(("unmet", dependents, available))
    if missing is None:
        missing = catalog.memo["unmet", dependents, available] = tuple(
            (bit, catalog.requires[bit]) for bit in bits(dependents) if not catalog.requires[bit] & available
        )
    return missing


def broken_by_change(catalog: Catalog, before: int, after: int) -> list[tuple[int, int]]:
    """Dependencies satisfied by `before` that `after` no longer satisfies (a removal must not cause these)."""
    return [(bit, need) for bit, need in unmet(catalog, after, after) if before & need]
