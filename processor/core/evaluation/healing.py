"""Improved-mode healing (SPEC §2.4, §2.6): seats that became available go to the users waiting on them, oldest
error first."""

from __future__ import annotations

from processor.core.context import EventContext
from processor.core.evaluation.user import evaluate_user


def heal_waiting_users(ctx: EventContext) -> None:
    tenant = ctx.tenant
    catalog = tenant.catalog
    for sku_id in sorted(ctx.freed | ctx.raised, key=lambda s: catalog.skus[s].part_number):
        waiters = tenant.count_waiters.get(sku_id)
        for user_id, _ in list(waiters or ()):
            if tenant.available(sku_id) < 1:
                break
            user = tenant.users.get(user_id)
            if user is not None:
                evaluate_user(ctx, user)
