"""The one order of the licence checks (SPEC §2.5 phase 3, §2.2): location → uniqueness → exclusivity → dependency
→ seats.

Seats come last, so a seat is never held for, or named as the reason of, a licence that fails for another reason.
Group evaluation asks the chain about one candidate grant at a time: each licence a bundle adds (phase 3), and the
plans a widening newly enables, which only the plan rules judge (phase 2). A direct request asks it about the
request as a whole (`first_failure_of_request`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from processor.core.rules.dependency import dependency_failure
from processor.core.rules.exclusivity import exclusivity_failure
from processor.core.rules.grant import Failure, Grant
from processor.core.rules.location import location_failure
from processor.core.rules.seats import seat_failure
from processor.core.rules.uniqueness import uniqueness_failure
from processor.core.state import TenantState

Rule = Callable[[TenantState, Grant], Failure | None]

CHAIN: tuple[Rule, ...] = (location_failure, uniqueness_failure, exclusivity_failure, dependency_failure, seat_failure)
# The rules about the plans themselves: what plans newly enabled on an applied entry must pass (phase 2), the entry
# already holding its seat and prerequisites being a question for withdrawals only.
PLAN_RULES = CHAIN[: CHAIN.index(dependency_failure)]


def first_failure(tenant: TenantState, grant: Grant, rules: Sequence[Rule] = CHAIN) -> Failure | None:
    """The failure of the first rule, in chain order, that the grant breaks; None if it passes them all."""
    for rule in rules:
        failure = rule(tenant, grant)
        if failure is not None:
            return failure
    return None


def first_failure_of_request(
    tenant: TenantState, grants: Sequence[Grant], dependencies: Callable[[], Failure | None]
) -> Failure | None:
    """The failure that refuses a direct request, one transaction refused whole (SPEC §2.2), in chain order.

    The dependency rule judges the request as a whole (`dependencies`: "after the whole request", its removals
    included), so the rules before it ask licence by licence, in request order, then it, then the rules after it
    (seats), licence by licence: a request another rule refuses is never refused for want of a seat.
    """
    split = CHAIN.index(dependency_failure)
    for grant in grants:
        failure = first_failure(tenant, grant, CHAIN[:split])
        if failure is not None:
            return failure
    failure = dependencies()
    if failure is not None:
        return failure
    for grant in grants:
        failure = first_failure(tenant, grant, CHAIN[split + 1 :])
        if failure is not None:
            return failure
    return None
