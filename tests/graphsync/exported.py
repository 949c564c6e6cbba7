"""What the import tests compare of an export document."""

from __future__ import annotations

from typing import Any


def states(document: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every listed (not deleted) user's licenseAssignmentStates without their times: (SKU, source, state, error,
    disabled plans)."""
    return {
        u["id"]: [
            (s["skuId"], s["assignedByGroup"], s["state"], s["error"], tuple(s["disabledPlans"]))
            for s in u["licenseAssignmentStates"]
        ]
        for u in document["users"]
        if not u["deleted"]
    }
