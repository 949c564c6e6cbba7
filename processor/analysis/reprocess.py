"""Reprocess (SPEC §6.3): the admin's Reprocess for users, groups, every user in error, or every user in error on
one product, appended to the log and decided like any ingested event. No 20-user limit.

`--all-errors` and `--sku` are one `LicenseReprocessRequested` each (`allErrors: true`, `skuId`): the core
reprocesses every such user, oldest error first, so that seats go to those who waited longest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from processor.analysis.commands import CommandBatch, event_lines, now
from processor.analysis.lookup import require_tenant, resolve_sku
from processor.core.decide import users_in_error as core_users_in_error
from processor.core.state import ERROR_STATES, TenantState
from processor.embedded.runtime import EmbeddedRuntime

SOURCE = "/reprocess"


def users_in_error(state: TenantState, sku: str | None = None) -> list[str]:
    """Users with an entry in Error or ActiveWithError (of the product, if given), oldest error first: those the
    core reprocesses for `allErrors` / `skuId`."""
    sku_id = resolve_sku(state.catalog, sku).sku_id if sku is not None else None
    return [user.user_id for user in core_users_in_error(state, sku_id)]


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
    targets: list[dict[str, Any]] = [{"groupId": g} for g in groups] + [{"userId": u} for u in users]
    covered = len(targets)
    if all_errors or sku is not None:
        covered += len(users_in_error(state, None if all_errors else sku))
    if all_errors:
        targets.append({"allErrors": True})  # one command: the core reprocesses every user in error
    elif sku is not None:
        targets.append({"skuId": resolve_sku(state.catalog, sku).sku_id})
    before = error_count(state)
    batch = CommandBatch(tenant_id, SOURCE, time or now(), "reprocess")
    for target in targets:
        batch.add("LicenseReprocessRequested", target)
    summary = runtime.ingest(event_lines(batch.events, "reprocess"), progress=progress)
    after = error_count(runtime.tenant(tenant_id))
    return {
        "tenant": tenant_id,
        "requested": covered,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "errorsBefore": before,
        "errorsAfter": after,
    }
