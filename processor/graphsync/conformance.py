"""`licensing conformance`: our decided licenseAssignmentStates against the ones a snapshot shows Entra holding.

Entries are matched per user on (skuId, assignedByGroup); each mismatch gets one class, the first that fits:

    onlyOurs / onlyEntra       the entry is on one side only
    oursErrorEntraActive       we record an error, Entra has the licence applied without one
    oursActiveEntraError       the reverse
    differentError             both in error, with different codes
    differentState             same error, other state (Error, ActiveWithError, Disabled)
    differentDisabledPlans     same state and error, other plans disabled

and, where the log or the snapshot can tell, why: the group is still being processed in Entra, Entra's entry is
older than a change our log holds (a reprocess is pending there), the SKU is unknown to the catalogue, or what our
rule says about the entry.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processor.catalog_file import shipped_catalog
from processor.core.catalog import Catalog
from processor.graphsync.history import LogHistory, read_history
from processor.graphsync.snapshot import NO_ERROR, LicenseState, Snapshot, instant, read_snapshot
from projections.export import UnknownTenant

CLASSES = (
    "onlyOurs",
    "onlyEntra",
    "oursErrorEntraActive",
    "oursActiveEntraError",
    "differentError",
    "differentState",
    "differentDisabledPlans",
)
DIRECT = "direct"  # the per-group total of direct assignments
Key = tuple[str, str, str | None]  # (userId, skuId, assignedByGroup)


@dataclass(frozen=True, slots=True)
class Side:
    state: str
    error: str
    disabled_plans: tuple[str, ...]
    last_updated: str | None
    reason: str | None = None  # our error detail's reason

    def wire(self) -> dict[str, Any]:
        return {"state": self.state, "error": self.error, "disabledPlans": list(self.disabled_plans)}


def conformance_report(conn: sqlite3.Connection, tenant: str, folder: str | Path) -> dict[str, Any]:
    """The differences and their totals (the JSON document of `licensing conformance --json`)."""
    snapshot = read_snapshot(folder)
    if conn.execute("SELECT 1 FROM tenants WHERE tenant = ?", (tenant,)).fetchone() is None:
        raise UnknownTenant(f"unknown tenant {tenant!r}")
    query = "SELECT user_id FROM users WHERE tenant = ? AND lifecycle = 'active'"
    active = {user_id for (user_id,) in conn.execute(query, (tenant,))}
    ours = _our_entries(conn, tenant, active)
    entra = _entra_entries(snapshot)
    context = _Context(snapshot, read_history(conn, tenant, shipped_catalog()), shipped_catalog())
    differences = []
    for key in sorted(ours.keys() | entra.keys(), key=lambda k: (k[0], k[1], k[2] or "")):
        mine, theirs = ours.get(key), entra.get(key)
        kind = classify(mine, theirs)
        if kind is None:
            continue
        differences.append(
            {
                "userId": key[0],
                "skuId": key[1],
                "assignedByGroup": key[2],
                "class": kind,
                "ours": None if mine is None else mine.wire(),
                "entra": None if theirs is None else theirs.wire(),
                "why": context.why(key, kind, mine, theirs),
            }
        )
    users = len(active | {user.user_id for user in snapshot.users})
    return {"differences": differences, "totals": _totals(differences, ours, entra, users)}


def classify(ours: Side | None, entra: Side | None) -> str | None:
    """The class of a pair of entries, or None when they agree."""
    if ours is None or entra is None:
        return None if ours is entra else "onlyOurs" if entra is None else "onlyEntra"
    if ours.error != entra.error:
        if entra.error == NO_ERROR:
            return "oursErrorEntraActive"
        if ours.error == NO_ERROR:
            return "oursActiveEntraError"
        return "differentError"
    if ours.state != entra.state:
        return "differentState"
    if ours.disabled_plans != entra.disabled_plans:
        return "differentDisabledPlans"
    return None


def _our_entries(conn: sqlite3.Connection, tenant: str, active: set[str]) -> dict[Key, Side]:
    """Our entries of users not deleted (Graph lists no deleted user)."""
    entries = {}
    for user_id, sku_id, group_id, state, error, plans, detail, updated in conn.execute(
        "SELECT user_id, sku_id, assigned_by_group, state, error, disabled_plans, error_detail, last_updated "
        "FROM license_assignments WHERE tenant = ?",
        (tenant,),
    ):
        if user_id in active:
            reason = json.loads(detail).get("reason") if detail else None
            entries[(user_id, sku_id, group_id)] = Side(state, error, tuple(json.loads(plans)), updated, reason)
    return entries


def _entra_entries(snapshot: Snapshot) -> dict[Key, Side]:
    entries = {}
    for user in snapshot.users:
        for e in user.states:
            entries[(user.user_id, e.sku_id, e.group_id)] = _side(e)
    return entries


def _side(entry: LicenseState) -> Side:
    return Side(entry.state, entry.error, entry.disabled_plans, entry.last_updated)


class _Context:
    """What explains a difference: the snapshot's groups and members, the log's change times, the catalogue."""

    def __init__(self, snapshot: Snapshot, history: LogHistory, catalog: Catalog) -> None:
        self.history = history
        self.catalog = catalog
        self.processing = {g.group_id: g.processing_state for g in snapshot.groups}
        self.members = {g: {m.member_id for m in members} for g, members in snapshot.members.items()}

    def why(self, key: Key, kind: str, ours: Side | None, entra: Side | None) -> str | None:
        user_id, sku_id, group_id = key
        if self.catalog.resolve_sku(sku_id) is None:
            return f"SKU {sku_id} is unknown to the catalogue: the import left it out"
        state = self.processing.get(group_id) if group_id else None
        if state and state != "ProcessingComplete":
            return f"Entra is still processing group {group_id} ({state})"
        if entra is not None and entra.last_updated:
            change = self._later_change(user_id, group_id, entra.last_updated)
            if change:
                what, moment = change
                return (
                    f"Entra's entry ({entra.last_updated}) is older than the {what} at {moment}: a reprocess is pending"
                )
        if group_id and user_id not in self.members.get(group_id, ()):
            if kind == "onlyEntra":
                return f"the user is no longer a member of {group_id}: Entra kept the entry, our rules withdrew it"
        if ours is not None and ours.error != NO_ERROR and ours.reason:
            return f"our rules: {ours.reason}"
        if kind == "differentDisabledPlans" and ours is not None and entra is not None:
            return self._plans(ours.disabled_plans, entra.disabled_plans)
        return None

    def _later_change(self, user_id: str, group_id: str | None, since: str) -> tuple[str, str] | None:
        history = self.history
        candidates = [("profile change", history.profile_changed.get(user_id))]
        if group_id:
            candidates += [
                ("membership change", history.membership_changed.get((group_id, user_id))),
                ("group licence change", history.group_licenses_changed.get(group_id)),
            ]
        else:
            candidates.append(("direct licence change", history.direct_licenses_changed.get(user_id)))
        later = [(what, moment) for what, moment in candidates if moment and instant(moment) > instant(since)]
        return max(later, key=lambda pair: instant(pair[1])) if later else None

    def _plans(self, ours: tuple[str, ...], entra: tuple[str, ...]) -> str:
        def names(plans: set[str]) -> str:
            found = [self.catalog.resolve_plan(plan) for plan in sorted(plans)]
            return ", ".join(
                self.catalog.plan_name(bit) if bit is not None else plan for bit, plan in zip(found, sorted(plans))
            )

        parts = []
        if set(ours) - set(entra):
            parts.append(f"only ours disables {names(set(ours) - set(entra))}")
        if set(entra) - set(ours):
            parts.append(f"only Entra's disables {names(set(entra) - set(ours))}")
        return "; ".join(parts)


def _totals(
    differences: list[dict[str, Any]], ours: dict[Key, Side], entra: dict[Key, Side], users: int
) -> dict[str, Any]:
    by_class = dict.fromkeys(CLASSES, 0)
    by_group: dict[str, int] = {}
    for difference in differences:
        by_class[difference["class"]] += 1
        group = difference["assignedByGroup"] or DIRECT
        by_group[group] = by_group.get(group, 0) + 1
    return {
        "differences": len(differences),
        "entries": {"ours": len(ours), "entra": len(entra)},
        "users": users,
        "byClass": by_class,
        "byGroup": dict(sorted(by_group.items())),
    }
