"""Phase 2 (SPEC §2.5): widenings of applied entries; the newly enabled plans must pass the plan rules."""

from __future__ import annotations

from processor.core.context import EventContext
from processor.core.holdings import enabled_without
from processor.core.rules.chain import PLAN_RULES, first_failure
from processor.core.rules.grant import Grant
from processor.core.rules.location import effective_location
from processor.core.state import ACTIVE, ACTIVE_WITH_ERROR, APPLIED_STATES, UNIQUENESS, EntryKey, TenantState, User


def widen(ctx: EventContext, user: User, desired: dict[EntryKey, int], blocked: set[EntryKey]) -> set[EntryKey]:
    """Applied entries whose intent enables more plans; a failing check keeps the old plans, flagged
    ActiveWithError. Returns the entries it widened or tried to (`blocked`: those phase 1 just flagged)."""
    tenant = ctx.tenant
    skus = tenant.catalog.skus
    touched: set[EntryKey] = set()
    for key, entry in list(user.entries.items()):
        want = desired.get(key)
        if want is None or entry.state not in APPLIED_STATES or (key in blocked and entry.state == ACTIVE_WITH_ERROR):
            continue
        newly = entry.disabled & ~want & skus[entry.sku_id].plans
        if not newly:
            continue
        touched.add(key)
        failure = first_failure(tenant, _widening(tenant, user, key, newly), PLAN_RULES)
        if failure is None:
            ctx.set_entry(user, key, ACTIVE, want)
        elif failure[0] == UNIQUENESS and tenant.settings.proxy_conflict_mode == "silentSkip":
            continue  # 2017 preview: skipped without a trace
        else:
            ctx.set_entry(user, key, ACTIVE_WITH_ERROR, entry.disabled, *failure)
    return touched


def _widening(tenant: TenantState, user: User, key: EntryKey, newly: int) -> Grant:
    """The newly enabled plans of entry `key` as a grant: in the user's own location for a direct entry, the
    effective one for a group entry (SPEC §2.9), beside everything else the user has enabled."""
    location, source = (user.usage_location, "user") if key[1] is None else effective_location(tenant, user)
    beside = enabled_without(tenant.catalog, user, key, None)
    return Grant(user, key[0], newly, location, source, beside)
