"""What a tenant's input log says that the read models do not keep: its current memberships, the licences last
asked of each group and user (accepted or refused: a refusal is not asked again), the plans added to products, and
when each membership, group licence, direct licence and profile last changed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from processor.core.catalog import Catalog
from processor.embedded import eventlog
from processor.graphsync.snapshot import instant

MembershipKey = tuple[str, str]  # (groupId, memberId)


@dataclass(slots=True)
class LogHistory:
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # groupId -> memberId -> "user" | "group"
    group_licenses: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # groupId -> asked licences
    direct_licenses: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # userId -> asked licences
    plans_added: set[tuple[str, str]] = field(default_factory=set)  # (skuId, plan GUID)
    membership_changed: dict[MembershipKey, str] = field(default_factory=dict)  # -> time of the last change
    group_licenses_changed: dict[str, str] = field(default_factory=dict)  # groupId -> time
    direct_licenses_changed: dict[str, str] = field(default_factory=dict)  # userId -> time
    profile_changed: dict[str, str] = field(default_factory=dict)  # userId -> time
    last_time: str | None = None  # the latest time of the tenant's logged events


def read_history(conn: sqlite3.Connection, tenant: str, catalog: Catalog) -> LogHistory:
    """Folds the tenant's applied input events (stale ones skipped, refused group deletions kept out); SKUs and
    plans named by part number or plan name are turned into GUIDs with `catalog`."""
    history = LogHistory()
    names = _Names(catalog)
    stale = {seq for (seq,) in conn.execute("SELECT seq FROM stale_events")}
    refused = {
        event_id
        for (event_id,) in conn.execute(
            "SELECT event_id FROM rejected_commands WHERE tenant = ? AND type = 'GroupDeleted'", (tenant,)
        )
    }
    for seq, raw in eventlog.lines(conn, tenant=tenant):  # only the blocks holding this tenant's events
        event = orjson.loads(raw)  # the log holds valid events only
        if event["tenant"] != tenant or seq in stale:
            continue
        _apply(history, event, refused, names)
        if history.last_time is None or instant(event["time"]) > instant(history.last_time):
            history.last_time = event["time"]
    return history


def _apply(history: LogHistory, event: dict[str, Any], refused: set[str], names: _Names) -> None:
    kind, time, data = event["type"], event["time"], event["data"]
    if kind == "GroupMemberAdded":
        history.members.setdefault(data["groupId"], {})[data["memberId"]] = data.get("memberType") or "user"
        history.membership_changed[(data["groupId"], data["memberId"])] = time
    elif kind == "GroupMemberRemoved":
        history.members.get(data["groupId"], {}).pop(data["memberId"], None)
        history.membership_changed[(data["groupId"], data["memberId"])] = time
    elif kind == "GroupDeleted" and event["id"] not in refused:
        for member in history.members.pop(data["groupId"], {}):
            history.membership_changed[(data["groupId"], member)] = time
        history.group_licenses.pop(data["groupId"], None)
    elif kind == "UserDeleted" and data.get("permanent"):
        for group_id, members in history.members.items():
            if members.pop(data["userId"], None) is not None:
                history.membership_changed[(group_id, data["userId"])] = time
        history.direct_licenses.pop(data["userId"], None)
    elif kind == "GroupLicensesChanged":
        history.group_licenses_changed[data["groupId"]] = time
        names.change(history.group_licenses.setdefault(data["groupId"], {}), data)
    elif kind == "UserLicensesChanged":
        history.direct_licenses_changed[data["userId"]] = time
        names.change(history.direct_licenses.setdefault(data["userId"], {}), data)
    elif kind in ("UserCreated", "UserUpdated"):
        history.profile_changed[data["userId"]] = time
    elif kind == "ServicePlanAdded":
        history.plans_added.add((names.sku(data["skuId"]), data["servicePlanId"].lower()))


class _Names:
    """SKU and plan references as the wire allows them (GUID or name) turned into GUIDs."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def sku(self, ref: str) -> str:
        sku = self.catalog.resolve_sku(ref)
        return sku.sku_id if sku else ref.lower()

    def plan(self, ref: str) -> str:
        bit = self.catalog.resolve_plan(ref)
        return self.catalog.plan_id(bit) if bit is not None else ref.lower()

    def change(self, licenses: dict[str, tuple[str, ...]], data: dict[str, Any]) -> None:
        """Apply an assignLicense body: removals and additions (an added SKU replaces its disabled plans)."""
        for ref in data.get("removeLicenses") or ():
            licenses.pop(self.sku(ref), None)
        for item in data.get("addLicenses") or ():
            licenses[self.sku(item["skuId"])] = tuple(sorted(self.plan(p) for p in item.get("disabledPlans") or ()))
