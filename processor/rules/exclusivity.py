"""Mutually exclusive service plans (SPEC §1.4.1, §3.3): at most one enabled member of each family."""

from __future__ import annotations

from processor.catalog import RuleSet, bits


def clashing_pairs(ruleset: RuleSet, newcomer: int, existing: int) -> list[tuple[int, int]]:
    """(new plan, existing plan) pairs that clash. The same plan from two SKUs never clashes (no pair)."""
    if not (newcomer & ruleset.all_members and existing & ruleset.all_members):
        return []
    pairs = []
    for _, family in ruleset.families:
        new_members, old_members = newcomer & family, existing & family
        if not (new_members and old_members):
            continue
        for a in bits(new_members):
            for b in bits(old_members):
                if a != b and ((1 << a) | (1 << b)) not in ruleset.allowed_pairs:
                    pairs.append((a, b))
    return pairs
