"""Reprocess (SPEC §6.3): the admin's Reprocess for users, groups, every user in error, or every user in error on
one product, appended to the log and decided like any ingested event. No 20-user limit.

Every user in error, or in error on a product, is reprocessed oldest error first, so that seats go to those who
waited longest (SPEC §6.10).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from processor.analysis.commands import CommandBatch, event_lines, now
from processor.analysis.lookup import require_tenant, resolve_sku
from processor.core.state import ERROR_STATES, TenantState
from processor.embedded.runtime import EmbeddedRuntime

SOURCE = "/reprocess"


def users_in_error(state: TenantState, sku: str | None = None) -> list[str]:
    """Users with an entry in Error or ActiveWithError (of the product, if given), oldest error first."""
    sku_id = resolve_sku(state.catalog, sku).sku_id if sku is not None else None
    oldest: dict[str, str] = {}
    for user in state.users.values():
        for entry in user.entries.values():
            if entry.state in ERROR_STATES and (sku_id is None or entry.sku_id == sku_id):
                since = entry.first_error_at or entry.last_updated
                if user.user_id not in oldest or since < oldest[user.user_id]:
                    oldest[user.user_id] = since
    return sorted(oldest, key=lambda user_id: (oldest[user_id], user_id))


def error_count(state: TenantState) -> int:
    return sum(1 for user in state.users.values() for e in user.entries.values() if e.state in ERROR_STATES)


def reprocess(
    conn: sqlite3.Connection,
    tenant_id: str,
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
    all_errors: bool = False,
    sku: str | None = None,
    time: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Append and decide LicenseReprocessRequested for the targets; what it did, as a JSON-ready summary."""
    require_tenant(conn, tenant_id)
    runtime = EmbeddedRuntime(conn)
    state = runtime.tenant(tenant_id)
    targets: list[dict[str, str]] = [{"groupId": g} for g in groups] + [{"userId": u} for u in users]
    if all_errors or sku is not None:
        targets += [{"userId": u} for u in users_in_error(state, sku)]
    before = error_count(state)
    batch = CommandBatch(tenant_id, SOURCE, time or now(), "reprocess")
    for target in targets:
        batch.add("LicenseReprocessRequested", target)
    summary = runtime.ingest(event_lines(batch.events, "reprocess"), progress=progress)
    after = error_count(runtime.tenant(tenant_id))
    return {
        "tenant": tenant_id,
        "requested": len(targets),
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "errorsBefore": before,
        "errorsAfter": after,
    }
