"""Per-event bookkeeping (SPEC §2.5 phase 4): every entry change goes through here.

The context keeps the derived indexes exact while the rules run (seats consumed, groups' error and source sets, the
FIFO of users waiting for a seat) and, when asked, turns what changed into output events: it snapshots a user the
first time the event touches it and emits the difference, so a no-op evaluation emits nothing (SPEC §2.17).
"""

from __future__ import annotations

from typing import Any

from processor.core.catalog import Catalog
from processor.core.outputs import Output
from processor.core.rules.seats import holds_seat
from processor.core.state import (
    APPLIED_STATES,
    COUNT,
    ERROR,
    ERROR_STATES,
    NO_ERROR,
    OTHER,
    Entry,
    EntryKey,
    TenantState,
    User,
)

SYSTEM_ACTOR = "Microsoft Azure AD Group-Based Licensing"

EntryView = tuple[str, str, int, Any]  # (state, error, disabled mask, detail)
LicensesView = tuple[tuple[str, int], ...]  # ((skuId, effective disabled mask), ...)


def licenses_view(catalog: Catalog, user: User) -> LicensesView:
    """`assignedLicenses`: one row per held SKU, disabled = plans no applied entry enables (SPEC §1.8)."""
    return _licenses(
        catalog, _enabled_per_sku(catalog, [(e.sku_id, e.state, e.disabled) for e in user.entries.values()])
    )


def _enabled_per_sku(catalog: Catalog, entries: list[tuple[str, str, int]]) -> dict[str, int]:
    """Per SKU held, the plans its applied entries enable, from (skuId, state, disabled) of every entry."""
    per_sku: dict[str, int] = {}
    skus = catalog.skus
    for sku_id, state, disabled in entries:
        if state in APPLIED_STATES:
            per_sku[sku_id] = per_sku.get(sku_id, 0) | (skus[sku_id].plans & ~disabled)
    return per_sku


def _licenses(catalog: Catalog, per_sku: dict[str, int]) -> LicensesView:
    skus = catalog.skus
    rows = [(sku_id, skus[sku_id].plans & ~enabled) for sku_id, enabled in per_sku.items()]
    if len(rows) > 1:
        rows.sort(key=lambda row: skus[row[0]].part_number)
    return tuple(rows)


def license_list(catalog: Catalog, licenses: dict[str, int]) -> list[dict[str, Any]]:
    """A group's `assignedLicenses` on the wire, in assignment order."""
    return [
        {
            "skuId": sku_id,
            "skuPartNumber": catalog.skus[sku_id].part_number,
            "disabledPlans": catalog.plan_id_list(disabled),
        }
        for sku_id, disabled in licenses.items()
    ]


class EventContext:
    """What one input event changes, and the output events that say so."""

    __slots__ = (
        "tenant",
        "cause",
        "time",
        "actor",
        "outputs",
        "freed",
        "raised",
        "user_change_actor",
        "_users",
        "_usage",
        "_group_flags",
    )

    def __init__(self, tenant: TenantState, cause: str, time: str, actor: str) -> None:
        self.tenant = tenant
        self.cause = cause
        self.time = time
        self.actor = actor
        self.outputs: list[Output] = []
        self.freed: set[str] = set()  # SKUs a seat was released for (improved-mode healing)
        self.raised: set[str] = set()  # SKUs whose capacity grew
        self.user_change_actor = SYSTEM_ACTOR  # who the `Change user license` audit names
        # user id -> (user, its entries before this event, soft-deleted then, suspended plans then)
        self._users: dict[str, tuple[User, dict[EntryKey, EntryView], bool, int]] = {}
        self._usage: dict[str, None] = {}
        self._group_flags: dict[str, bool] = {}

    # ---- output ------------------------------------------------------------------------------------------

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        data["causedBy"] = self.cause
        self.outputs.append((event_type, data))

    def error_code(self, code: str) -> str:
        if code == OTHER and self.tenant.settings.error_enum_spelling == "Others":
            return "Others"
        return code

    # ---- entry changes -----------------------------------------------------------------------------------

    def touch(self, user: User) -> None:
        """Snapshot the user before the first change this event makes to it."""
        if user.user_id in self._users:
            return
        view = {key: (e.state, e.error, e.disabled, e.detail) for key, e in user.entries.items()}
        self._users[user.user_id] = (user, view, user.soft_deleted, user.suspended)

    def set_entry(
        self,
        user: User,
        key: EntryKey,
        state: str,
        disabled: int,
        error: str = NO_ERROR,
        detail: dict[str, Any] | None = None,
        requested: int | None = None,
    ) -> Entry:
        if user.user_id not in self._users:
            self.touch(user)
        entry = user.entries.get(key)
        if (
            entry is not None
            and entry.state == state
            and entry.disabled == disabled
            and entry.error == error
            and (requested is None or requested == entry.requested)
            and entry.detail == detail
        ):
            return entry  # the same answer again (a retry that still fails): seats and indexes already say so
        sku_id, group_id = key
        # Seats follow whether the user has an applied entry of the SKU: only a change of appliedness can move one.
        appliedness_changes = (entry is not None and entry.state in APPLIED_STATES) != (state in APPLIED_STATES)
        was_held = appliedness_changes and holds_seat(self.tenant, user, sku_id)
        if entry is None:
            first_error_at = self.time if state in ERROR_STATES else None
            requested_mask = 0 if requested is None else requested
            entry = Entry(sku_id, group_id, disabled, state, error, detail, "", requested_mask, first_error_at)
            user.entries[key] = entry
            if sku_id not in self.tenant.known_skus:
                self.tenant.known_skus[sku_id] = None
                self._usage[sku_id] = None
        else:
            if state in ERROR_STATES:
                if entry.first_error_at is None or entry.state not in ERROR_STATES:
                    entry.first_error_at = self.time
            else:
                entry.first_error_at = None
            entry.state, entry.error, entry.disabled, entry.detail = state, error, disabled, detail
            if requested is not None:
                entry.requested = requested
        self._reindex(user, key, entry)
        if appliedness_changes:
            self._recount(user, sku_id, was_held)
        return entry

    def drop_entry(self, user: User, key: EntryKey) -> None:
        entry = user.entries.get(key)
        if entry is None:
            return
        self.touch(user)
        applied = entry.state in APPLIED_STATES  # else no seat can move
        was_held = applied and holds_seat(self.tenant, user, key[0])
        del user.entries[key]
        self._reindex(user, key, None)
        if applied:
            self._recount(user, key[0], was_held)

    def recount_user(self, user: User, held_before: dict[str, bool]) -> None:
        """After a lifecycle change (soft delete, restore) re-derive which seats the user consumes."""
        for sku_id, was_held in held_before.items():
            self._recount(user, sku_id, was_held)

    def usage_changed(self, sku_id: str) -> None:
        self.tenant.known_skus.setdefault(sku_id, None)
        self._usage[sku_id] = None

    def watch_group(self, group_id: str) -> None:
        if group_id not in self._group_flags:
            group = self.tenant.groups.get(group_id)
            self._group_flags[group_id] = bool(group and group.errors)

    def _recount(self, user: User, sku_id: str, was_held: bool) -> None:
        now_held = holds_seat(self.tenant, user, sku_id)
        if now_held == was_held:
            return
        consumed = self.tenant.consumed
        consumed[sku_id] = consumed.get(sku_id, 0) + (1 if now_held else -1)
        self._usage[sku_id] = None
        if not now_held:
            self.freed.add(sku_id)

    def _reindex(self, user: User, key: EntryKey, entry: Entry | None) -> None:
        """Bring the count-waiter FIFO and the source group's source / error sets up to date with entry `key`."""
        sku_id, group_id = key
        user_id = user.user_id
        tenant = self.tenant
        all_waiters = tenant.count_waiters
        if entry is not None and entry.state == ERROR and entry.error == COUNT:
            all_waiters.setdefault(sku_id, {}).setdefault((user_id, group_id), None)
        elif all_waiters and (waiters := all_waiters.get(sku_id)) is not None:
            waiters.pop((user_id, group_id), None)
        if group_id is None:
            return
        group = tenant.groups.get(group_id)
        if group is None:
            return
        flags = self._group_flags
        if group_id not in flags:
            flags[group_id] = bool(group.errors)  # as watch_group
        if entry is not None:
            sourced, failing = True, entry.state in ERROR_STATES
        else:
            sourced = failing = False
        if not failing:  # the user's other entries from the group decide
            for (_, source), other in user.entries.items():
                if source == group_id:
                    sourced = True
                    if other.state in ERROR_STATES:
                        failing = True
                        break
        if sourced:
            group.sourced.add(user_id)
        else:
            group.sourced.discard(user_id)
        if failing:
            group.errors.add(user_id)
        else:
            group.errors.discard(user_id)

    # ---- turning changes into output events ---------------------------------------------------------------

    def flush_users(self) -> None:
        """Emit the entry and licence changes of every user touched since the last flush (SPEC §2.5 phase 4)."""
        catalog = self.tenant.catalog
        skus = catalog.skus
        for user, before, was_deleted, suspended_before in self._users.values():
            after = user.entries
            if before:
                changed = []
                for key, view in before.items():
                    entry = after.get(key)
                    if entry is None or (entry.state, entry.error, entry.disabled, entry.detail) != view:
                        changed.append(key)
                if len(after) > len(before) - len(changed):  # some keys are new
                    changed += [k for k in after if k not in before]
            else:
                changed = list(after)  # the common case of a group pass: a user's first entry
            if not changed and user.soft_deleted == was_deleted:
                continue  # same entries, same lifecycle: same plans (the common case of a retry that still fails)
            if len(changed) > 1:
                changed.sort(key=lambda k: (skus[k[0]].part_number, k[1] is not None, k[1] or ""))
            if changed:
                failed: Entry | None = None  # the first changed entry in error names the audit's failure
                for key in changed:
                    entry = after.get(key)
                    self._emit_entry(user, key, entry, before.get(key))
                    if failed is None and entry is not None and entry.state in ERROR_STATES:
                        failed = entry
                self._audit_user_change(user, failed)
            per_sku_now: dict[str, int] = {}
            enabled_now = 0
            for entry in after.values():
                if entry.state in APPLIED_STATES:
                    sku_id = entry.sku_id
                    plans = skus[sku_id].plans & ~entry.disabled
                    per_sku_now[sku_id] = per_sku_now.get(sku_id, 0) | plans
                    enabled_now |= plans
            per_sku_before: dict[str, int] = {}
            enabled_before = 0
            for (sku_id, _), (state, _, disabled, _) in before.items():
                if state in APPLIED_STATES:
                    plans = skus[sku_id].plans & ~disabled
                    per_sku_before[sku_id] = per_sku_before.get(sku_id, 0) | plans
                    enabled_before |= plans
            if user.soft_deleted:
                enabled_now = 0  # deleted: all Suspended
            if was_deleted:
                enabled_before = 0
            if not changed and enabled_now == enabled_before:
                continue
            user.suspended = (user.suspended | (enabled_before & ~enabled_now)) & ~enabled_now
            if per_sku_now != per_sku_before or user.suspended != suspended_before:  # same plans: same licences
                self.emit(
                    "AssignedLicensesChanged",
                    {
                        "userId": user.user_id,
                        "assignedLicenses": [
                            {
                                "skuId": sku_id,
                                "skuPartNumber": skus[sku_id].part_number,
                                "disabledPlans": catalog.plan_id_list(disabled),
                            }
                            for sku_id, disabled in _licenses(catalog, per_sku_now)
                        ],
                        "suspendedPlans": catalog.plan_id_list(user.suspended),
                    },
                )
        self._users.clear()

    def _emit_entry(self, user: User, key: EntryKey, entry: Entry | None, before: EntryView | None) -> None:
        catalog = self.tenant.catalog
        sku_id, group_id = key
        state: str | None = None  # the entry was withdrawn
        error: str | None = None
        disabled_plans: list[str] = []
        detail: dict[str, Any] | None = None
        last_updated = self.time
        if entry is not None:
            if before is None or (entry.state, entry.error, entry.disabled) != before[:3]:
                entry.last_updated = self.time
            state, error, disabled_plans = (
                entry.state,
                self.error_code(entry.error),
                catalog.plan_id_list(entry.disabled),
            )
            detail, last_updated = entry.detail, entry.last_updated
        self.emit(
            "LicenseAssignmentStateChanged",
            {
                "userId": user.user_id,
                "skuId": sku_id,
                "skuPartNumber": catalog.skus[sku_id].part_number,
                "assignedByGroup": group_id,
                "state": state,
                "error": error,
                "disabledPlans": disabled_plans,
                "errorDetail": detail,
                "lastUpdatedDateTime": last_updated,
                "previousState": before[0] if before else None,
                "previousError": self.error_code(before[1]) if before else None,
                "previousDisabledPlans": catalog.plan_id_list(before[2]) if before else [],
            },
        )

    def _audit_user_change(self, user: User, failed: Entry | None) -> None:
        """The product's `Change user license` audit record: failure with the message if an entry failed."""
        if failed is not None:
            result = f"failure: {(failed.detail or {}).get('message', failed.error)}"
        else:
            result = "success"
        self.emit(
            "AuditRecorded",
            {
                "activity": "Change user license",
                "actor": self.user_change_actor,
                "category": "UserManagement",
                "targetId": user.user_id,
                "result": result,
            },
        )

    def finish(self) -> list[Output]:
        if not (self._users or self._usage or self._group_flags):
            return self.outputs  # nothing was touched (most membership changes of unlicensed groups)
        self.flush_users()
        tenant = self.tenant
        catalog = tenant.catalog
        usage = self._usage
        if len(usage) > 1:
            usage = dict.fromkeys(sorted(usage, key=lambda s: catalog.skus[s].part_number))
        for sku_id in usage:
            self.emit("ProductUsageChanged", product_usage(tenant, sku_id))
        for group_id, had_errors in self._group_flags.items():
            group = tenant.groups.get(group_id)
            has_errors = bool(group and group.errors)
            if has_errors != had_errors:
                self.emit(
                    "GroupErrorStatusChanged",
                    {"groupId": group_id, "hasMembersWithLicenseErrors": has_errors},
                )
        return self.outputs


def _view(entry: Entry) -> EntryView:
    return (entry.state, entry.error, entry.disabled, entry.detail)


def product_usage(tenant: TenantState, sku_id: str) -> dict[str, Any]:
    sub = tenant.subscriptions.get(sku_id)
    consumed = tenant.consumed.get(sku_id, 0)
    enabled, warning, suspended, locked_out = (
        (sub.enabled, sub.warning, sub.suspended, sub.locked_out) if sub else (0, 0, 0, 0)
    )
    return {
        "skuId": sku_id,
        "skuPartNumber": tenant.catalog.skus[sku_id].part_number,
        "capabilityStatus": sub.capability_status if sub else "Enabled",
        "prepaidUnits": {"enabled": enabled, "warning": warning, "suspended": suspended, "lockedOut": locked_out},
        "consumedUnits": consumed,
        "availableUnits": max(0, enabled + warning - consumed),  # tenant.available(sku_id)
        "overAssigned": consumed > enabled + warning,
    }
