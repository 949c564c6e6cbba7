"""Plan prerequisites (SPEC §1.4.2): a dependent plan needs one of its prerequisites enabled, from any source."""

from __future__ import annotations

from processor.catalog import Catalog, bits


def unmet(catalog: Catalog, plans: int, available: int) -> list[tuple[int, int]]:
    """(dependent plan, prerequisites mask) for each plan of `plans` that no plan of `available` satisfies."""
    missing = []
    for bit in bits(plans & catalog.dependents):
        need = catalog.requires[bit]
        if not need & available:
            missing.append((bit, need))
    return missing


def broken_by_change(catalog: Catalog, before: int, after: int) -> list[tuple[int, int]]:
    """Dependencies satisfied by `before` that `after` no longer satisfies (a removal must not cause these)."""
    return [(bit, need) for bit, need in unmet(catalog, after, after) if before & need]
