"""The group pass (SPEC §2.11): every direct user member and every user holding an entry from the group is
evaluated, between the processing-state transitions and Start/Finish audit records."""

from __future__ import annotations

from typing import Any

from processor.core.context import SYSTEM_ACTOR, EventContext
from processor.core.evaluation.user import evaluate_user
from processor.core.state import COMPLETE, IN_PROGRESS, QUEUED, Group
from processor.core.views import license_list


def group_pass(ctx: EventContext, group: Group) -> None:
    tenant = ctx.tenant
    ctx.watch_group(group.group_id)
    _processing(ctx, group, QUEUED, 0, 0)
    _processing(ctx, group, IN_PROGRESS, 0, 0)
    start = _audit(group, "Start applying group based license to users", None)
    start["modifiedProperties"] = {"assignedLicenses": license_list(tenant.catalog, group.licenses)}
    ctx.emit("AuditRecorded", start)
    user_ids = list(group.members)
    user_ids += sorted(group.sourced.difference(group.members))
    for user_id in user_ids:
        user = tenant.users.get(user_id)
        if user is not None:
            evaluate_user(ctx, user)
    ctx.flush_users()
    failed = sum(1 for user_id in user_ids if user_id in group.errors)
    succeeded = len(user_ids) - failed
    _processing(ctx, group, COMPLETE, succeeded, failed)
    result = f"Users successfully assigned licenses: {succeeded}, Users for whom license assignment failed: {failed}."
    ctx.emit("AuditRecorded", _audit(group, "Finish applying group based license to users", result))


def _processing(ctx: EventContext, group: Group, state: str, succeeded: int, failed: int) -> None:
    group.processing_state = state
    ctx.emit(
        "GroupLicenseProcessingChanged",
        {"groupId": group.group_id, "state": state, "succeeded": succeeded, "failed": failed},
    )


def _audit(group: Group, activity: str, result: str | None) -> dict[str, Any]:
    return {
        "activity": activity,
        "actor": SYSTEM_ACTOR,
        "category": "GroupManagement",
        "targetId": group.group_id,
        "result": result,
    }
