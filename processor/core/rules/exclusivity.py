"""Mutually exclusive service plans (SPEC §1.4.1, §3.3): at most one enabled member of each family, else
`MutuallyExclusiveViolation`."""

from __future__ import annotations

from collections.abc import Iterator

from processor.core.catalog import RuleSet, bits
from processor.core.messages import exclusive_detail
from processor.core.rules.grant import Failure, Grant
from processor.core.state import EXCLUSIVE, TenantState


def exclusivity_failure(tenant: TenantState, grant: Grant) -> Failure | None:
    """The plans a grant enables must not clash with those it comes beside: the newcomer loses (SPEC §2.5)."""
    pairs = clashing_pairs(tenant.catalog.rulesets[tenant.ruleset], grant.plans, grant.beside)
    if pairs:
        return EXCLUSIVE, exclusive_detail(tenant.catalog, pairs)
    return None


def clashing_pairs(ruleset: RuleSet, newcomer: int, existing: int) -> tuple[tuple[int, int], ...]:
    """(new plan, existing plan) pairs that clash. The same plan from two SKUs never clashes (no pair).

    Memoised per rule set: a group pass asks the same question for every member (measured: 3.4 % of a
    50,000-member E3 + EMS group pass, CPU time, median of 5 interleaved runs)."""
    newcomer, existing = newcomer & ruleset.all_members, existing & ruleset.all_members
    if not (newcomer and existing):
        return ()
    pairs = ruleset.memo.get((newcomer, existing))
    if pairs is None:
        pairs = ruleset.memo[newcomer, existing] = tuple(_pairs(ruleset, newcomer, existing))
    return pairs


def _pairs(ruleset: RuleSet, newcomer: int, existing: int) -> Iterator[tuple[int, int]]:
    for _, family in ruleset.families:
        new_members, old_members = newcomer & family, existing & family
        if not (new_members and old_members):
            continue
        for a in bits(new_members):
            for b in bits(old_members):
                if a != b and ((1 << a) | (1 << b)) not in ruleset.allowed_pairs:
                    yield a, b
