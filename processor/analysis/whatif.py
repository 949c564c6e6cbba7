"""What-if (SPEC §6.8): what ingesting a file would change, decided on a copy of the tenant's state, written nowhere.

The events go through what `ingest` does to them — malformed lines dead-lettered, ids already in the log (or earlier
in the file) skipped as duplicates, stale versions ignored — and are decided by the core on the tenant's state as the
log leaves it. The prediction applies their output events to the read models' current rows the way the projections
do, so it is exactly what `export` shows after ingesting the file: licence entries whose state, error or disabled
plans change, products whose consumed or available seats change, commands that would be rejected; besides, the
users who gain or lose plans and the groups whose error status flips. Only what differs is listed.

`group_edit` builds the events of two dry runs an administrator asks for before acting: an atomic licence swap on a
group (one GroupLicensesChanged adding and removing together, SPEC §6.7) and an edit of a group's membership list.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from events import ParseError, parse_event
from events.inputs import InputEvent
from processor.analysis.commands import Command
from processor.analysis.lookup import current_state, group_label, require_tenant, resolve_sku
from processor.core.catalog import Catalog, bits
from processor.core.decide import STALE, decide_changes
from processor.core.outputs import Output
from processor.core.state import TenantState
from processor.embedded import eventlog

MAX_REASONS = 5  # dead-letter reasons shown, as ingest does

EntryKey = tuple[str, str, str | None]  # (userId, skuId, assignedByGroup)


@dataclass
class Batch:
    """The events of the input that the tenant would decide, and what ingest would say about the rest."""

    events: list[InputEvent] = field(default_factory=list)
    duplicates: int = 0
    dead_lettered: int = 0
    other_tenants: int = 0
    reasons: list[str] = field(default_factory=list)


def read_batch(conn: sqlite3.Connection, tenant_id: str, lines: Iterable[tuple[str, bytes]]) -> Batch:
    """Parse the lines as ingest does; keep the tenant's events not in the log yet (the first copy of an id wins)."""
    batch = Batch()
    parsed: list[InputEvent] = []
    for origin, raw in lines:
        if not raw.strip():
            continue
        try:
            event = parse_event(raw)
        except ParseError as exc:
            batch.dead_lettered += 1
            if len(batch.reasons) < MAX_REASONS:
                batch.reasons.append(f"{origin}: {exc.reason}")
            continue
        if event.tenant != tenant_id:
            batch.other_tenants += 1
            continue
        parsed.append(event)
    logged = eventlog.known_ids(conn, tenant_id, [event.id for event in parsed]) if parsed else set()
    seen: set[str] = set()
    for event in parsed:
        if event.id in logged or event.id in seen:
            batch.duplicates += 1
            continue
        seen.add(event.id)
        batch.events.append(event)
    return batch


def what_if(
    conn: sqlite3.Connection,
    tenant_id: str,
    lines: Iterable[tuple[str, bytes]],
    state: TenantState | None = None,
) -> dict[str, Any]:
    """The prediction for ingesting `lines` (origin, raw line) into the tenant (see the module docstring).

    `state`: a copy of the tenant's decided state to decide on (it is changed); else one is rebuilt from the store,
    for this call alone. `conn` is only read."""
    require_tenant(conn, tenant_id)
    if state is None:
        state = current_state(conn, tenant_id)
    batch = read_batch(conn, tenant_id, lines)
    before_catalog = state.catalog
    decided: list[tuple[InputEvent, str, list[Output]]] = []
    for event in batch.events:
        status, outputs = decide_changes(state, event)
        decided.append((event, status, outputs))
    return predict(conn, tenant_id, state, before_catalog, batch, decided)


def predict(
    conn: sqlite3.Connection,
    tenant_id: str,
    state: TenantState,
    before_catalog: Catalog,
    batch: Batch,
    decided: Sequence[tuple[InputEvent, str, list[Output]]],
) -> dict[str, Any]:
    """The read models' rows the outputs change, before and after, listing only what differs."""
    entries: dict[EntryKey, dict[str, Any] | None] = {}
    licenses: dict[str, list[dict[str, Any]]] = {}
    usage: dict[str, dict[str, Any]] = {}
    group_flags: dict[str, bool] = {}
    rejected: list[dict[str, Any]] = []
    stale = 0
    for _, status, outputs in decided:
        if status == STALE:
            stale += 1
        for kind, data in outputs:
            if kind == "LicenseAssignmentStateChanged":
                key = (data["userId"], data["skuId"], data["assignedByGroup"])
                entries[key] = None if data["state"] is None else _entry_view(data)
            elif kind == "AssignedLicensesChanged":
                licenses[data["userId"]] = data["assignedLicenses"]
            elif kind == "UserProfileChanged" and data["lifecycle"] == "hardDeleted":
                licenses[data["userId"]] = []
            elif kind == "ProductUsageChanged":
                usage[data["skuId"]] = data
            elif kind == "GroupErrorStatusChanged":
                group_flags[data["groupId"]] = data["hasMembersWithLicenseErrors"]
            elif kind == "CommandRejected":
                rejected.append(
                    {
                        "eventId": data["eventId"],
                        "type": data["type"],
                        "error": data["error"],
                        "message": data["message"],
                        "target": data.get("userId") or data.get("groupId"),
                    }
                )
    return {
        "tenant": tenant_id,
        "ingest": {
            "accepted": len(decided) - stale,
            "duplicates": batch.duplicates,
            "stale": stale,
            "deadLettered": batch.dead_lettered,
            "otherTenants": batch.other_tenants,
            "reasons": batch.reasons,
        },
        "licenseAssignmentStates": _entry_changes(conn, tenant_id, state, entries),
        "users": _plan_changes(conn, tenant_id, state, before_catalog, licenses),
        "subscribedSkus": _usage_changes(conn, tenant_id, usage),
        "groups": _group_changes(conn, tenant_id, state, group_flags),
        "rejectedCommands": rejected,
    }


def _entry_view(data: dict[str, Any]) -> dict[str, Any]:
    return {"state": data["state"], "error": data["error"], "disabledPlans": list(data["disabledPlans"])}


def _entry_changes(
    conn: sqlite3.Connection, tenant_id: str, state: TenantState, after: dict[EntryKey, dict[str, Any] | None]
) -> list[dict[str, Any]]:
    before: dict[EntryKey, dict[str, Any]] = {}
    for user_id in sorted({key[0] for key in after}):
        for sku_id, group_id, entry_state, error, disabled in conn.execute(
            "SELECT sku_id, assigned_by_group, state, error, disabled_plans FROM license_assignments "
            "WHERE tenant = ? AND user_id = ?",
            (tenant_id, user_id),
        ):
            before[(user_id, sku_id, group_id)] = {
                "state": entry_state,
                "error": error,
                "disabledPlans": json.loads(disabled),
            }
    catalog = state.catalog
    changes = []
    for key, now in after.items():
        was = before.get(key)
        if was == now:
            continue
        user_id, sku_id, group_id = key
        changes.append(
            {
                "userId": user_id,
                "displayName": _display_name(state, user_id),
                "skuId": sku_id,
                "skuPartNumber": catalog.skus[sku_id].part_number,
                "assignedByGroup": group_id,
                "groupDisplayName": None if group_id is None else group_label(state, group_id),
                "before": was,
                "after": now,
            }
        )
    changes.sort(
        key=lambda c: (c["userId"], c["skuPartNumber"], c["assignedByGroup"] is not None, c["assignedByGroup"] or "")
    )
    return changes


def _display_name(state: TenantState, user_id: str) -> str | None:
    user = state.users.get(user_id)
    return user.display_name if user is not None else None


def _enabled(catalog: Catalog, licenses: list[dict[str, Any]]) -> dict[str, str]:
    """servicePlanId -> servicePlanName of every plan an `assignedLicenses` list enables."""
    enabled = {}
    for license in licenses:
        sku = catalog.skus[license["skuId"]]
        disabled = set(license["disabledPlans"])
        for bit in bits(sku.plans):
            plan_id = catalog.plan_id(bit)
            if plan_id not in disabled:
                enabled[plan_id] = catalog.plan_name(bit)
    return enabled


def _plan_changes(
    conn: sqlite3.Connection,
    tenant_id: str,
    state: TenantState,
    before_catalog: Catalog,
    after: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Users whose enabled plans change: their assignedLicenses changed, or a product they hold gained a plan (its
    disabledPlans, and so the row, stay the same: a new plan is on unless listed)."""
    grown = {sku_id for sku_id, sku in state.catalog.skus.items() if sku.plans != before_catalog.skus[sku_id].plans}
    before: dict[str, list[dict[str, Any]]] = {}
    if grown:
        for user_id, assigned in conn.execute(
            "SELECT user_id, assigned_licenses FROM user_licenses WHERE tenant = ?", (tenant_id,)
        ):
            licenses = json.loads(assigned)
            if any(lic["skuId"] in grown for lic in licenses):
                before[user_id] = licenses
    for user_id in after.keys() - before.keys():
        row = conn.execute(
            "SELECT assigned_licenses FROM user_licenses WHERE tenant = ? AND user_id = ?", (tenant_id, user_id)
        ).fetchone()
        before[user_id] = json.loads(row[0]) if row else []
    changes = []
    for user_id in sorted(before):
        was = _enabled(before_catalog, before[user_id])
        now = _enabled(state.catalog, after.get(user_id, before[user_id]))
        gained = sorted(now[p] for p in now.keys() - was.keys())
        lost = sorted(was[p] for p in was.keys() - now.keys())
        if gained or lost:
            name = _display_name(state, user_id)
            changes.append({"userId": user_id, "displayName": name, "gainedPlans": gained, "lostPlans": lost})
    return changes


def _usage_changes(conn: sqlite3.Connection, tenant_id: str, after: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    changes = []
    for sku_id, now in after.items():
        row = conn.execute(
            "SELECT consumed, available FROM product_usage WHERE tenant = ? AND sku_id = ?", (tenant_id, sku_id)
        ).fetchone()
        consumed, available = row if row else (None, None)
        if (consumed, available) == (now["consumedUnits"], now["availableUnits"]):
            continue
        changes.append(
            {
                "skuId": sku_id,
                "skuPartNumber": now["skuPartNumber"],
                "consumedUnits": {"before": consumed, "after": now["consumedUnits"]},
                "availableUnits": {"before": available, "after": now["availableUnits"]},
            }
        )
    changes.sort(key=lambda c: c["skuPartNumber"])
    return changes


def _group_changes(
    conn: sqlite3.Connection, tenant_id: str, state: TenantState, after: dict[str, bool]
) -> list[dict[str, Any]]:
    changes = []
    for group_id in sorted(after):
        was = (
            conn.execute(
                "SELECT 1 FROM group_member_errors WHERE tenant = ? AND group_id = ? LIMIT 1", (tenant_id, group_id)
            ).fetchone()
            is not None
        )
        if was != after[group_id]:
            changes.append(
                {
                    "groupId": group_id,
                    "displayName": group_label(state, group_id),
                    "hasMembersWithLicenseErrors": {"before": was, "after": after[group_id]},
                }
            )
    return changes


# ---- dry runs of group edits ----------------------------------------------------------------------------------


def group_edit(
    state: TenantState,
    group_id: str,
    add_licenses: Sequence[tuple[str, list[str]]] = (),
    remove_licenses: Sequence[str] = (),
    add_members: Sequence[str] = (),
    remove_members: Sequence[str] = (),
    members: Sequence[str] | None = None,
) -> list[Command]:
    """The commands of a group edit: the licence change as one atomic GroupLicensesChanged (removals and additions
    decided together, so a swap never passes through a clash), then the membership changes; `members`, the group's
    new membership list, becomes the removals and additions that turn the current list into it."""
    catalog = state.catalog
    commands: list[Command] = []
    if add_licenses or remove_licenses:
        commands.append(
            (
                "GroupLicensesChanged",
                {
                    "groupId": group_id,
                    "addLicenses": [
                        {"skuId": resolve_sku(catalog, sku).sku_id, "disabledPlans": list(disabled)}
                        for sku, disabled in add_licenses
                    ],
                    "removeLicenses": [resolve_sku(catalog, sku).sku_id for sku in remove_licenses],
                },
            )
        )
    group = state.groups.get(group_id)
    current = list(group.members) if group is not None else []
    removals = list(remove_members)
    additions = list(add_members)
    if members is not None:
        wanted = dict.fromkeys(members)
        removals += [user_id for user_id in current if user_id not in wanted]
        additions += [user_id for user_id in wanted if user_id not in current]
    commands += [("GroupMemberRemoved", {"groupId": group_id, "memberId": user_id}) for user_id in removals]
    commands += [("GroupMemberAdded", {"groupId": group_id, "memberId": user_id}) for user_id in additions]
    return commands
