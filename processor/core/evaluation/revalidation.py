"""Phase 2b (SPEC §2.5, §2.9): applied entries the earlier phases left alone are judged in the usage location again;
a plan no longer offered there is flagged, never withdrawn (P3, P4)."""

from __future__ import annotations

from processor.core.context import EventContext
from processor.core.rules.grant import Grant
from processor.core.rules.location import effective_location, location_failure
from processor.core.state import ACTIVE, ACTIVE_WITH_ERROR, APPLIED_STATES, EntryKey, User


def revalidate_untouched(ctx: EventContext, user: User, touched: set[EntryKey]) -> None:
    """Flag untouched applied entries whose location no longer allows a plan; clear ActiveWithError where nothing
    fails any more."""
    tenant = ctx.tenant
    skus = tenant.catalog.skus
    # The location of a group entry, and of a direct one (the user's own, else the tenant's country).
    group_location = effective_location(tenant, user)
    direct_location = (user.usage_location, "user") if user.usage_location is not None else (tenant.country, "tenant")
    for key, entry in list(user.entries.items()):
        if key in touched or entry.state not in APPLIED_STATES:
            continue
        location, source = direct_location if key[1] is None else group_location
        enabled = skus[entry.sku_id].plans & ~entry.disabled
        failure = location_failure(tenant, Grant(user, entry.sku_id, enabled, location, source))
        if failure is not None:
            ctx.set_entry(user, key, ACTIVE_WITH_ERROR, entry.disabled, *failure)
        elif entry.state == ACTIVE_WITH_ERROR:
            ctx.set_entry(user, key, ACTIVE, entry.disabled)
