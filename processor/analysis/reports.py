"""Reports, as rows with the same keys in a table, JSON and CSV.

* seats (SPEC §6.6, §6.17): the seats held by soft-deleted and sign-in-disabled users and by entries stuck in
  ActiveWithError (the seat stays only because a removal or change was blocked), per product and group;
* new plans (SPEC §6.15): for every vendor plan addition in the log, the groups and users it turned the plan on for,
  and whether it is still on;
* errors (SPEC §5.4, the PowerShell recipe): one row per entry in error, with its group and code, reason and fix.

Seats and errors read the read models only; new plans re-decides the tenant's log (`history`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from events.inputs import InputEvent
from processor.analysis.history import replay_tenant
from processor.analysis.lookup import group_label, readable_detail, require_tenant
from processor.core.holdings import enabled_plans
from processor.core.outputs import Output
from processor.core.state import TenantState

SEAT_COLUMNS = (
    ("skuPartNumber", "Product"),
    ("groupDisplayName", "Group"),
    ("category", "Held by"),
    ("displayName", "User"),
    ("userPrincipalName", "UPN"),
    ("state", "State"),
    ("error", "Error"),
    ("userId", "User id"),
    ("assignedByGroup", "Group id"),
    ("skuId", "SKU id"),
)
SEAT_SUMMARY_COLUMNS = (
    ("skuPartNumber", "Product"),
    ("groupDisplayName", "Group"),
    ("category", "Held by"),
    ("seats", "Seats"),
)
ERROR_COLUMNS = (
    ("displayName", "User"),
    ("userPrincipalName", "UPN"),
    ("skuPartNumber", "Product"),
    ("groupDisplayName", "Group"),
    ("state", "State"),
    ("error", "Error"),
    ("reason", "Reason"),
    ("suggestedFix", "Suggested fix"),
    ("since", "Since"),
    ("userId", "User id"),
    ("assignedByGroup", "Group id"),
    ("skuId", "SKU id"),
)
NEW_PLAN_COLUMNS = (
    ("time", "Time"),
    ("eventId", "Event"),
    ("skuPartNumber", "Product"),
    ("servicePlanName", "Plan"),
    ("kind", "Turned on for"),
    ("name", "Name"),
    ("stillOn", "Still on"),
    ("id", "Id"),
    ("servicePlanId", "Plan id"),
)

DISABLED, SOFT_DELETED, STUCK = "sign-in disabled", "soft-deleted", "ActiveWithError"


def seats_report(conn: sqlite3.Connection, tenant_id: str) -> dict[str, Any]:
    """`rows`: one per licence source of a seat held by a deleted or disabled account or by stuck entries;
    `summary`: seats per product, group and reason (a seat from two groups counts in both groups' rows, once in
    `bySku`)."""
    require_tenant(conn, tenant_id)
    (settings,) = conn.execute("SELECT settings FROM tenants WHERE tenant = ?", (tenant_id,)).fetchone()
    release_on_delete = bool(json.loads(settings or "{}").get("releaseSeatOnSoftDelete"))
    held: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in conn.execute(
        "SELECT a.user_id, a.sku_id, a.sku_part_number, a.assigned_by_group, a.state, a.error, u.display_name, "
        "u.user_principal_name, u.account_enabled, u.lifecycle, g.display_name AS group_name "
        "FROM license_assignments a JOIN users u ON u.tenant = a.tenant AND u.user_id = a.user_id "
        "LEFT JOIN groups g ON g.tenant = a.tenant AND g.group_id = a.assigned_by_group "
        "WHERE a.tenant = ? AND a.state IN ('Active', 'ActiveWithError') "
        "ORDER BY a.sku_part_number, u.display_name, a.user_id, a.source",
        (tenant_id,),
    ):
        user_id, sku_id, part, group_id, state, error, name, upn, enabled, lifecycle, group_name = row
        held.setdefault((user_id, sku_id), []).append(
            {
                "skuId": sku_id,
                "skuPartNumber": part,
                "assignedByGroup": group_id,
                "groupDisplayName": "direct" if group_id is None else group_name or group_id,
                "userId": user_id,
                "displayName": name,
                "userPrincipalName": upn,
                "state": state,
                "error": error,
                "_enabled": bool(enabled),
                "_lifecycle": lifecycle,
            }
        )
    rows: list[dict[str, Any]] = []
    for sources in held.values():
        first = sources[0]
        if first["_lifecycle"] == "softDeleted":
            category = None if release_on_delete else SOFT_DELETED
        elif not first["_enabled"]:
            category = DISABLED
        elif all(s["state"] == "ActiveWithError" for s in sources):
            category = STUCK  # the seat is held only by entries whose removal or change was blocked
        else:
            category = None
        for source in sources:
            if category is not None:
                rows.append({k: v for k, v in source.items() if not k.startswith("_")} | {"category": category})
    summary: dict[tuple[str, str, str], int] = {}
    by_sku: dict[str, set[str]] = {}
    for row in rows:
        key = (row["skuPartNumber"], row["groupDisplayName"], row["category"])
        summary[key] = summary.get(key, 0) + 1
        by_sku.setdefault(row["skuPartNumber"], set()).add(row["userId"])
    return {
        "tenant": tenant_id,
        "rows": rows,
        "summary": [
            {"skuPartNumber": part, "groupDisplayName": group, "category": category, "seats": seats}
            for (part, group, category), seats in sorted(summary.items())
        ],
        "bySku": [{"skuPartNumber": part, "seats": len(users)} for part, users in sorted(by_sku.items())],
    }


def errors_report(conn: sqlite3.Connection, tenant_id: str) -> dict[str, Any]:
    """One row per licence entry in Error or ActiveWithError, users by name."""
    require_tenant(conn, tenant_id)
    known = dict(
        conn.execute(
            "SELECT user_id, coalesce(display_name, user_principal_name, user_id) FROM users WHERE tenant = ?",
            (tenant_id,),
        )
    )

    def names(user_id: str) -> str:
        return str(known.get(user_id, user_id))

    rows = []
    for row in conn.execute(
        "SELECT a.user_id, u.display_name, u.user_principal_name, a.sku_id, a.sku_part_number, a.assigned_by_group, "
        "g.display_name, a.state, a.error, a.error_detail, a.last_updated "
        "FROM license_assignments a LEFT JOIN users u ON u.tenant = a.tenant AND u.user_id = a.user_id "
        "LEFT JOIN groups g ON g.tenant = a.tenant AND g.group_id = a.assigned_by_group "
        "WHERE a.tenant = ? AND a.state IN ('Error', 'ActiveWithError') "
        "ORDER BY u.display_name, a.user_id, a.sku_part_number, a.source",
        (tenant_id,),
    ):
        user_id, name, upn, sku_id, part, group_id, group_name, state, error, detail, since = row
        reason, fix = readable_detail(json.loads(detail) if detail else {}, names)
        rows.append(
            {
                "userId": user_id,
                "displayName": name,
                "userPrincipalName": upn,
                "skuId": sku_id,
                "skuPartNumber": part,
                "assignedByGroup": group_id,
                "groupDisplayName": "direct" if group_id is None else group_name or group_id,
                "state": state,
                "error": error,
                "reason": reason,
                "suggestedFix": fix,
                "since": since,
            }
        )
    return {"tenant": tenant_id, "rows": rows}


class _PlanAdditions:
    """At every ServicePlanAdded: the groups and users for which the plan went from off to on."""

    def __init__(self) -> None:
        self.additions: list[tuple[InputEvent, str, int, list[str], list[str]]] = []
        self._before: dict[str, bool] = {}

    def before(self, state: TenantState, event: InputEvent) -> None:
        if event.type != "ServicePlanAdded":
            return
        data: Any = event.data
        bit = state.catalog.resolve_plan(data.servicePlanId)
        self._before = {
            user.user_id: bit is not None and bool(enabled_plans(state.catalog, user) & (1 << bit))
            for user in state.users.values()
        }

    def after(self, state: TenantState, event: InputEvent, status: str, outputs: list[Output]) -> None:
        if event.type != "ServicePlanAdded" or status != "applied":
            return
        catalog = state.catalog
        data: Any = event.data
        sku = catalog.resolve_sku(data.skuId)
        bit = catalog.resolve_plan(data.servicePlanId)
        if sku is None or bit is None:
            return
        mask = 1 << bit
        groups = sorted(
            g.group_id
            for g in state.groups.values()
            if not g.deleted and sku.sku_id in g.licenses and not g.licenses[sku.sku_id] & mask
        )
        users = sorted(
            user.user_id
            for user in state.users.values()
            if enabled_plans(catalog, user) & mask and not self._before.get(user.user_id, False)
        )
        self.additions.append((event, sku.sku_id, bit, groups, users))


def new_plans_report(
    conn: sqlite3.Connection, tenant_id: str, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """One row per group and per user that a vendor plan addition turned the plan on for."""
    require_tenant(conn, tenant_id)
    observer = _PlanAdditions()
    state, _ = replay_tenant(conn, tenant_id, observer, progress)
    catalog = state.catalog
    rows = []
    for event, sku_id, bit, groups, users in observer.additions:
        mask = 1 << bit
        common = {
            "time": event.time,
            "eventId": event.id,
            "skuId": sku_id,
            "skuPartNumber": catalog.skus[sku_id].part_number,
            "servicePlanId": catalog.plan_id(bit),
            "servicePlanName": catalog.plan_name(bit),
        }
        for group_id in groups:
            group = state.groups.get(group_id)
            still = group is not None and sku_id in group.licenses and not group.licenses[sku_id] & mask
            name = group_label(state, group_id)
            rows.append(common | {"kind": "group", "id": group_id, "name": name, "stillOn": still})
        for user_id in users:
            user = state.users.get(user_id)
            still = user is not None and bool(enabled_plans(catalog, user) & mask)
            name = (user.display_name or user.upn or user_id) if user is not None else user_id
            rows.append(common | {"kind": "user", "id": user_id, "name": name, "stillOn": still})
    return {"tenant": tenant_id, "rows": rows}
