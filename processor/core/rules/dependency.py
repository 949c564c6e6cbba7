"""Plan prerequisites (SPEC §1.4.2): a dependent plan needs one of its prerequisites enabled, from any source, else
`DependencyViolation` (a group configuration's own prerequisites are checked by commands/group_config.py)."""

from __future__ import annotations

from collections.abc import Sequence

from processor.core.catalog import Catalog, bits
from processor.core.messages import dependency_detail
from processor.core.rules.grant import Failure, Grant
from processor.core.state import DEPENDENCY, TenantState


def unmet(catalog: Catalog, plans: int, available: int) -> tuple[tuple[int, int], ...]:
    """(dependent plan, prerequisites mask) for each plan of `plans` that no plan of `available` satisfies."""
    dependents = plans & catalog.dependents
    if not dependents:
        return ()
    return tuple((bit, catalog.requires[bit]) for bit in bits(dependents) if not catalog.requires[bit] & available)


def broken_by_change(catalog: Catalog, before: int, after: int) -> list[tuple[int, int]]:
    """Dependencies satisfied by `before` that `after` no longer satisfies (a removal must not cause these)."""
    return [(bit, need) for bit, need in unmet(catalog, after, after) if before & need]


def dependency_failure(tenant: TenantState, grant: Grant) -> Failure | None:
    """Every plan a grant enables needs one of its prerequisites among the grant's `prerequisites`."""
    if grant.plans & tenant.catalog.dependents:
        return _failure(tenant.catalog, unmet(tenant.catalog, grant.plans, grant.prerequisites))
    return None


def withdrawal_failure(catalog: Catalog, before: int, after: int) -> Failure | None:
    """A withdrawal or narrowing from `before` to `after` enabled plans must leave every prerequisite in place."""
    return _failure(catalog, broken_by_change(catalog, before, after))


def request_failure(catalog: Catalog, before: int, after: int, added: int) -> Failure | None:
    """A direct request as a whole (SPEC §2.2): the prerequisites its removals take away, then those its added plans
    lack, each named once."""
    missing = broken_by_change(catalog, before, after) + list(unmet(catalog, added & ~before, after))
    return _failure(catalog, list(dict.fromkeys(missing)))


def _failure(catalog: Catalog, missing: Sequence[tuple[int, int]]) -> Failure | None:
    return (DEPENDENCY, dependency_detail(catalog, missing)) if missing else None
