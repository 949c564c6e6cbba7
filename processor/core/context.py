"""Per-event bookkeeping (SPEC §2.5 phase 4): every entry change goes through here.

The context keeps the derived indexes exact while the rules run (seats consumed, groups' error and source sets, the
FIFO of users waiting for a seat, the holdings of users with many entries) and, when asked, turns what changed into
output events: it remembers each entry as it was before the event first changed it, and the user's licences before
the event first touched it, and emits the difference, so a no-op evaluation emits nothing (SPEC §2.17).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from processor.core.holdings import enabled_by_sku, entry_changed, standing_in_group
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
from processor.core.views import licence_rows, product_usage

SYSTEM_ACTOR = "Microsoft Azure AD Group-Based Licensing"

EntryView = tuple[str, str, int, Any]  # (state, error, disabled mask, detail)


@dataclass(slots=True)
class _Touched:
    """A user the event touched, as it was: what the event changed is told against this."""

    user: User
    entries: dict[EntryKey, EntryView | None]  # each entry changed, as before its first change (None: absent)
    # Its licences: the plans enabled per SKU held, taken before its first entry change (None: none changed yet,
    # so they are the licences it has now).
    licences: dict[str, int] | None
    soft_deleted: bool
    suspended: int


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
        self._users: dict[str, _Touched] = {}
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
        """Remember the user as it is, before the first change this event makes to it."""
        self._touched(user)

    def _touched(self, user: User) -> _Touched:
        touched = self._users.get(user.user_id)
        if touched is None:
            touched = _Touched(user, {}, None, user.soft_deleted, user.suspended)
            self._users[user.user_id] = touched
        return touched

    def _remember(self, touched: _Touched, key: EntryKey, entry: Entry | None) -> None:
        """Keep the entry as it is before the event changes it, and the user's licences before its first change."""
        if touched.licences is None:
            touched.licences = enabled_by_sku(self.tenant.catalog, touched.user)
        if key not in touched.entries:
            touched.entries[key] = _view(entry)

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
        touched = self._touched(user)
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
        self._remember(touched, key, entry)
        sku_id = key[0]
        # Seats follow whether the user has an applied entry of the SKU: only a change of appliedness can move one.
        appliedness_changes = (entry is not None and entry.state in APPLIED_STATES) != (state in APPLIED_STATES)
        was_held = appliedness_changes and holds_seat(self.tenant, user, sku_id)
        before = None if entry is None else (entry.state, entry.disabled)
        if entry is None:
            entry = self._new_entry(user, key, state, disabled, error, detail, requested)
        else:
            self._change_entry(entry, state, disabled, error, detail, requested)
        entry_changed(user, sku_id, before, (state, disabled))
        self._reindex(user, key, entry)
        if appliedness_changes:
            self._recount(user, sku_id, was_held)
        return entry

    def _new_entry(
        self,
        user: User,
        key: EntryKey,
        state: str,
        disabled: int,
        error: str,
        detail: dict[str, Any] | None,
        requested: int | None,
    ) -> Entry:
        sku_id, group_id = key
        first_error_at = self.time if state in ERROR_STATES else None
        requested_mask = 0 if requested is None else requested
        entry = user.entries[key] = Entry(
            sku_id, group_id, disabled, state, error, detail, "", requested_mask, first_error_at
        )
        if sku_id not in self.tenant.known_skus:
            self.usage_changed(sku_id)
        return entry

    def _change_entry(
        self, entry: Entry, state: str, disabled: int, error: str, detail: dict[str, Any] | None, requested: int | None
    ) -> None:
        if state not in ERROR_STATES:
            entry.first_error_at = None
        elif entry.first_error_at is None or entry.state not in ERROR_STATES:
            entry.first_error_at = self.time  # the error starts now; a changed error keeps its start
        entry.state, entry.error, entry.disabled, entry.detail = state, error, disabled, detail
        if requested is not None:
            entry.requested = requested

    def drop_entry(self, user: User, key: EntryKey) -> None:
        entry = user.entries.get(key)
        if entry is None:
            return
        self._remember(self._touched(user), key, entry)
        applied = entry.state in APPLIED_STATES  # else no seat can move
        was_held = applied and holds_seat(self.tenant, user, key[0])
        del user.entries[key]
        entry_changed(user, key[0], (entry.state, entry.disabled), None)
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
        if entry is not None and entry.state == ERROR and entry.error == COUNT:
            tenant.count_waiters.setdefault(sku_id, {}).setdefault((user_id, group_id), None)
        else:
            waiters = tenant.count_waiters.get(sku_id)
            if waiters:
                waiters.pop((user_id, group_id), None)
        group = tenant.groups.get(group_id) if group_id is not None else None
        if group is None:
            return
        if group.group_id not in self._group_flags:  # as watch_group: whether it had errors before this event
            self._group_flags[group.group_id] = bool(group.errors)
        if entry is not None and entry.state in ERROR_STATES:
            sourced = failing = True
        else:  # the user's other entries from the group decide
            sourced, failing = standing_in_group(tenant.catalog, user, group.group_id)
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
        for touched in self._users.values():
            changed = self._changed_entries(touched)
            if changed:
                self._emit_entry_changes(touched, changed)
            if changed or touched.user.soft_deleted != touched.soft_deleted:
                self._emit_licences(touched, bool(changed))
        self._users.clear()

    def _changed_entries(self, touched: _Touched) -> list[EntryKey]:
        """The entries the event changed for good, in the contract's order: by part number, direct first."""
        entries = touched.user.entries
        changed = [key for key, view in touched.entries.items() if _view(entries.get(key)) != view]
        skus = self.tenant.catalog.skus
        changed.sort(key=lambda k: (skus[k[0]].part_number, k[1] is not None, k[1] or ""))
        return changed

    def _emit_entry_changes(self, touched: _Touched, changed: list[EntryKey]) -> None:
        """One LicenseAssignmentStateChanged per changed entry, then the user's `Change user license` audit, a
        failure naming the first changed entry in error."""
        user = touched.user
        failed: Entry | None = None
        for key in changed:
            self._emit_entry(user, key, touched.entries[key])
            entry = user.entries.get(key)
            if failed is None and entry is not None and entry.state in ERROR_STATES:
                failed = entry
        self._audit_user_change(user, failed)

    def _emit_licences(self, touched: _Touched, entries_changed: bool) -> None:
        """The user's AssignedLicensesChanged when its licences or suspended plans (SPEC §2.8) changed: plans no
        longer enabled by anything are suspended, and a soft-deleted user's are all."""
        user = touched.user
        catalog = self.tenant.catalog
        per_sku_now = enabled_by_sku(catalog, user)
        per_sku_before = touched.licences if touched.licences is not None else per_sku_now
        enabled_now = 0 if user.soft_deleted else reduce(or_, per_sku_now.values(), 0)
        enabled_before = 0 if touched.soft_deleted else reduce(or_, per_sku_before.values(), 0)
        if not entries_changed and enabled_now == enabled_before:
            return
        user.suspended = (user.suspended | (enabled_before & ~enabled_now)) & ~enabled_now
        if per_sku_now == per_sku_before and user.suspended == touched.suspended:
            return  # same plans: same licences
        skus = catalog.skus
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
                    for sku_id, disabled in licence_rows(catalog, per_sku_now)
                ],
                "suspendedPlans": catalog.plan_id_list(user.suspended),
            },
        )

    def _emit_entry(self, user: User, key: EntryKey, before: EntryView | None) -> None:
        entry = user.entries.get(key)
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
        for sku_id in sorted(self._usage, key=lambda s: catalog.skus[s].part_number):
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


def _view(entry: Entry | None) -> EntryView | None:
    return None if entry is None else (entry.state, entry.error, entry.disabled, entry.detail)
