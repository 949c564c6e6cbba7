"""A licence timeline (SPEC §6.13): every change of a user's licence entries, or of a group's members' entries, in
log order, each with the input event that caused it.

The log is the history: the tenant is re-decided from it (`history`) and every `LicenseAssignmentStateChanged` of the
users asked about is kept with its input event, so the last change of each entry is its current state. A group's
members are everyone who was ever a direct user member of it, plus anyone who holds an entry from it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from events.inputs import InputEvent
from processor.analysis.history import replay_tenant
from processor.analysis.lookup import group_label
from processor.core.outputs import Output
from processor.core.state import TenantState


class _ChangeRecorder:
    """Keeps the entry changes of one user, or of every user for a group's timeline (filtered at the end)."""

    def __init__(self, user_id: str | None, group_id: str | None) -> None:
        self.user_id = user_id
        self.group_id = group_id
        self.changes: list[dict[str, Any]] = []
        self.members: set[str] = set() if user_id is None else {user_id}

    def before(self, state: TenantState, event: InputEvent) -> None:
        pass

    def after(self, state: TenantState, event: InputEvent, status: str, outputs: list[Output]) -> None:
        group_id = self.group_id
        added: Any = event.data
        if group_id is not None and event.type == "GroupMemberAdded" and added.groupId == group_id:
            group = state.groups.get(group_id)
            if group is not None and added.memberId in group.members:
                self.members.add(added.memberId)
        for kind, data in outputs:
            if kind != "LicenseAssignmentStateChanged":
                continue
            if self.user_id is not None and data["userId"] != self.user_id:
                continue
            if group_id is not None and data["assignedByGroup"] == group_id:
                self.members.add(data["userId"])
            detail = data["errorDetail"] or {}
            self.changes.append(
                {
                    "time": event.time,
                    "eventId": event.id,
                    "eventType": event.type,
                    "source": event.source,
                    "userId": data["userId"],
                    "skuId": data["skuId"],
                    "skuPartNumber": data["skuPartNumber"],
                    "assignedByGroup": data["assignedByGroup"],
                    "state": data["state"],
                    "error": data["error"],
                    "previousState": data["previousState"],
                    "previousError": data["previousError"],
                    "disabledPlans": data["disabledPlans"],
                    "reason": detail.get("reason") if data["state"] not in (None, "Active") else None,
                }
            )


def timeline(
    conn: sqlite3.Connection,
    tenant_id: str,
    user_id: str | None = None,
    group_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """`{"changes": [...]}` in log order, for one user or for a group's members (exactly one of the two)."""
    if (user_id is None) == (group_id is None):
        raise ValueError("a timeline is of one user or of one group's members")
    recorder = _ChangeRecorder(user_id, group_id)
    state, _ = replay_tenant(conn, tenant_id, recorder, progress)
    if group_id is not None:
        group = state.groups.get(group_id)
        if group is not None:
            recorder.members.update(group.members)
    changes = [change for change in recorder.changes if change["userId"] in recorder.members]
    for change in changes:
        user = state.users.get(change["userId"])
        change["displayName"] = user.display_name if user is not None else None
        source = change["assignedByGroup"]
        change["groupDisplayName"] = None if source is None else group_label(state, source)
    return {"changes": changes}
