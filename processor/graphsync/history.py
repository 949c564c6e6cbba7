"""What a tenant's input log says that the read models do not keep: its current memberships, the plans added to
products, and when each membership, group licence, direct licence and profile last changed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from processor.embedded import eventlog
from processor.graphsync.snapshot import instant

MembershipKey = tuple[str, str]  # (groupId, memberId)


@dataclass(slots=True)
class LogHistory:
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # groupId -> memberId -> "user" | "group"
    plans_added: set[tuple[str, str]] = field(default_factory=set)  # (skuId or part number as sent, plan GUID)
    membership_changed: dict[MembershipKey, str] = field(default_factory=dict)  # -> time of the last change
    group_licenses_changed: dict[str, str] = field(default_factory=dict)  # groupId -> time
    direct_licenses_changed: dict[str, str] = field(default_factory=dict)  # userId -> time
    profile_changed: dict[str, str] = field(default_factory=dict)  # userId -> time
    last_time: str | None = None  # the latest time of the tenant's logged events


def read_history(conn: sqlite3.Connection, tenant: str) -> LogHistory:
    """Folds the tenant's applied input events (stale ones skipped, refused group deletions kept out)."""
    history = LogHistory()
    stale = {seq for (seq,) in conn.execute("SELECT seq FROM stale_events")}
    refused = {
        event_id
        for (event_id,) in conn.execute(
            "SELECT event_id FROM rejected_commands WHERE tenant = ? AND type = 'GroupDeleted'", (tenant,)
        )
    }
    for seq, raw in eventlog.lines(conn):
        event = orjson.loads(raw)  # the log holds valid events only
        if event["tenant"] != tenant or seq in stale:
            continue
        _apply(history, event, refused)
        if history.last_time is None or instant(event["time"]) > instant(history.last_time):
            history.last_time = event["time"]
    return history


def _apply(history: LogHistory, event: dict[str, Any], refused: set[str]) -> None:
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
    elif kind == "UserDeleted" and data.get("permanent"):
        for group_id, members in history.members.items():
            if members.pop(data["userId"], None) is not None:
                history.membership_changed[(group_id, data["userId"])] = time
    elif kind == "GroupLicensesChanged":
        history.group_licenses_changed[data["groupId"]] = time
    elif kind == "UserLicensesChanged":
        history.direct_licenses_changed[data["userId"]] = time
    elif kind in ("UserCreated", "UserUpdated"):
        history.profile_changed[data["userId"]] = time
    elif kind == "ServicePlanAdded":
        history.plans_added.add((data["skuId"].lower(), data["servicePlanId"].lower()))
