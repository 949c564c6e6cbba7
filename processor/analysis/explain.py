"""Why a user has, or has not, each service plan (SPEC §6.5): per-plan provenance.

For every product the user holds or is meant to hold (an entry, or a licensed group the user is a direct member of),
every service plan gets `enabled` and `because`: which sources enable it, whose `disabledPlans` turn it off, or
which error blocks it and why (the clashing plan and the licence it comes from, the missing prerequisite, the
location used and where it came from, the other holder of the address, the sibling product), with the input events
that brought each fact about. `enabled` is what `assignedLicenses` says: a plan is on when an applied entry of its
product enables it (SPEC §2.7).

The tenant is re-decided from the log (`history`), which gives both the state and the events; nothing is written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from processor.analysis.history import EventRef, replay_tenant
from processor.analysis.lookup import UnknownName, group_label, readable_detail, resolve_sku, user_label
from processor.analysis.provenance import Provenance
from processor.core.catalog import bits
from processor.core.state import (
    ACTIVE_WITH_ERROR,
    APPLIED_STATES,
    COUNT,
    DEPENDENCY,
    EXCLUSIVE,
    LOCATION,
    OTHER,
    UNIQUENESS,
    Entry,
    EntryKey,
    TenantState,
    User,
)


def explain(
    conn: sqlite3.Connection,
    tenant_id: str,
    user_id: str,
    sku: str | None = None,
    plan: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The per-plan provenance of the user's licences (see the module docstring), as a JSON-ready document."""
    provenance = Provenance(user_id)
    state, _ = replay_tenant(conn, tenant_id, provenance, progress)
    return explain_state(state, provenance, sku, plan)


def explain_state(
    state: TenantState, provenance: Provenance, sku: str | None = None, plan: str | None = None
) -> dict[str, Any]:
    user = state.users.get(provenance.user_id)
    if user is None:
        raise UnknownName(f"user {provenance.user_id!r} no longer exists in tenant {state.tenant_id!r}")
    catalog = state.catalog
    sku_ids = _products(state, user)
    if sku is not None:
        wanted = resolve_sku(catalog, sku).sku_id
        sku_ids = [s for s in sku_ids if s == wanted]
    plan_bit: int | None = None
    if plan is not None:
        plan_bit = catalog.resolve_plan(plan)
        if plan_bit is None:
            raise UnknownName(f"unknown service plan {plan!r} (give a servicePlanName such as EXCHANGE_S_ENTERPRISE)")
    explainer = _Explainer(state, user, provenance)
    products = []
    for sku_id in sku_ids:
        product = explainer.product(sku_id, plan_bit)
        if plan_bit is None or product["plans"]:
            products.append(product)
    return {
        "userId": user.user_id,
        "displayName": user.display_name,
        "userPrincipalName": user.upn,
        "usageLocation": user.usage_location,
        "deleted": user.soft_deleted,
        "skus": products,
    }


def _products(state: TenantState, user: User) -> list[str]:
    """Every product the user holds or is meant to hold, by skuPartNumber."""
    sku_ids = {entry.sku_id for entry in user.entries.values()}
    for group_id in user.groups:
        group = state.groups.get(group_id)
        if group is not None and not group.deleted:
            sku_ids.update(group.licenses)
    return sorted(sku_ids, key=lambda s: state.catalog.skus[s].part_number)


def _source_order(key: EntryKey) -> tuple[bool, str]:
    return key[1] is not None, key[1] or ""


class _Explainer:
    def __init__(self, state: TenantState, user: User, provenance: Provenance) -> None:
        self.state = state
        self.catalog = state.catalog
        self.user = user
        self.provenance = provenance

    # ---- a product ----------------------------------------------------------------------------------------------

    def product(self, sku_id: str, plan_bit: int | None) -> dict[str, Any]:
        catalog = self.catalog
        sku = catalog.skus[sku_id]
        entries = sorted(
            ((k, e) for k, e in self.user.entries.items() if k[0] == sku_id), key=lambda p: _source_order(p[0])
        )
        intended = self._intents(sku_id)
        unrecorded = [g for g in intended if (sku_id, g) not in self.user.entries]
        held = any(e.state in APPLIED_STATES for _, e in entries)
        plan_bits = sorted(bits(sku.plans), key=catalog.plan_name)
        plans = []
        for bit in plan_bits:
            if plan_bit is not None and bit != plan_bit:
                continue
            enabled, because, events = self.plan(bit, entries, intended, unrecorded)
            plans.append(
                {
                    "servicePlanId": catalog.plan_id(bit),
                    "servicePlanName": catalog.plan_name(bit),
                    "enabled": enabled,
                    "because": because,
                    "events": self._in_log_order(events),
                }
            )
        sources = [self._source(key, entry, intended) for key, entry in entries]
        sources += [
            {
                "assignedByGroup": group_id,
                "groupDisplayName": group_label(self.state, group_id),
                "state": None,
                "error": None,
                "reason": self._unrecorded_reason(group_id),
                "suggestedFix": None,
            }
            for group_id in unrecorded
        ]
        return {
            "skuId": sku_id,
            "skuPartNumber": sku.part_number,
            "held": held,
            "sources": sources,
            "plans": plans,
        }

    def _intents(self, sku_id: str) -> dict[str, int]:
        """The groups that assign the product to the user now (direct member, group not deleted): their masks."""
        intents = {}
        for group_id in sorted(self.user.groups):
            group = self.state.groups.get(group_id)
            if group is not None and not group.deleted and sku_id in group.licenses:
                intents[group_id] = group.licenses[sku_id]
        return intents

    def _source(self, key: EntryKey, entry: Entry, intended: dict[str, int]) -> dict[str, Any]:
        errored = entry.state not in APPLIED_STATES or entry.state == ACTIVE_WITH_ERROR
        _, fix = readable_detail(entry.detail or {}, lambda user_id: user_label(self.state, user_id))
        return {
            "assignedByGroup": key[1],
            "groupDisplayName": None if key[1] is None else group_label(self.state, key[1]),
            "state": entry.state,
            "error": entry.error,
            "reason": self._entry_summary(key, entry, intended) if errored else None,
            "suggestedFix": fix if errored else None,
        }

    def _unrecorded_reason(self, group_id: str) -> str:
        if self.user.soft_deleted:
            return "no entry: the account is soft-deleted, so group licences are not evaluated for it until restored"
        if self.state.settings.proxy_conflict_mode == "silentSkip":
            return "no entry: skipped without an error (proxyConflictMode silentSkip hides duplicate addresses)"
        return "no entry yet: the user has not been evaluated since joining; reprocess the user"

    def _in_log_order(self, events: list[EventRef]) -> list[EventRef]:
        """The events once each, in the order of the log (an event id is unique in a tenant)."""
        unique = {event["id"]: event for event in events}
        return sorted(unique.values(), key=lambda e: self.provenance.order.get(e["id"], -1))

    # ---- a plan -------------------------------------------------------------------------------------------------

    def plan(
        self, bit: int, entries: list[tuple[EntryKey, Entry]], intended: dict[str, int], unrecorded: list[str]
    ) -> tuple[bool, str, list[EventRef]]:
        mask = 1 << bit
        enablers = [(k, e) for k, e in entries if e.state in APPLIED_STATES and not e.disabled & mask]
        events: list[EventRef] = []
        if enablers:
            parts = []
            for key, entry in enablers:
                part = f"enabled by {self._label(key)}"
                if entry.state == ACTIVE_WITH_ERROR:
                    part += f" ({self._entry_summary(key, entry, intended)})"
                parts.append(part)
                events += self._source_events(key)
            because = "; ".join(parts)
            added = self.provenance.plans_added.get((enablers[0][0][0], self.catalog.plan_id(bit)))
            if added is not None:
                because += "; the vendor added it to the product later, and disabledPlans does not list it"
                events.append(added)
            if self.user.soft_deleted:
                because += "; suspended while the account is soft-deleted"
            return True, because, events
        reasons = []
        for key, entry in entries:
            reason, why = self._off_because(bit, key, entry, intended)
            reasons.append(reason)
            events += why
        for group_id in unrecorded:
            reasons.append(f"{self._label(('', group_id))} assigns it: {self._unrecorded_reason(group_id)}")
            events += self._source_events(("", group_id))
        return False, "; ".join(reasons) or "no source assigns it", events

    def _off_because(
        self, bit: int, key: EntryKey, entry: Entry, intended: dict[str, int]
    ) -> tuple[str, list[EventRef]]:
        """Why entry `key` does not give plan `bit`, and the events behind it."""
        mask = 1 << bit
        label = self._label(key)
        entry_events = self._source_events(key)
        wanted = self._wanted(key, entry, intended)
        if entry.state in APPLIED_STATES:
            if wanted is None:
                return (
                    f"turned off in the licence kept from {label} (its disabledPlans when it was withdrawn)",
                    entry_events,
                )
            if wanted & mask:
                return self._disabled_by(key), entry_events
            if entry.state == ACTIVE_WITH_ERROR:
                why, cause_events = self._error_reason(key, entry, bit)
                return f"{label} enables it, but switching it on is blocked: {why}", entry_events + cause_events
            added = self.provenance.plans_added.get((key[0], self.catalog.plan_id(bit)))
            events = entry_events + ([added] if added else [])
            return f"{label} enables it, but it has not been checked yet: reprocess the user", events
        if entry.disabled & mask:
            return self._disabled_by(key) + f" (and that licence is in {entry.state}: {entry.error})", entry_events
        why, cause_events = self._error_reason(key, entry, bit)
        return f"{label} is in {entry.state}: {why}", entry_events + cause_events

    def _wanted(self, key: EntryKey, entry: Entry, intended: dict[str, int]) -> int | None:
        """The disabled mask the source wants now; None for a group entry whose intent is gone."""
        if key[1] is None:
            return entry.requested
        return intended.get(key[1])

    def _disabled_by(self, key: EntryKey) -> str:
        if key[1] is None:
            return "turned off in the direct assignment's disabledPlans"
        return f"turned off by the disabledPlans of {self._label(key)}"

    def _label(self, key: EntryKey) -> str:
        if key[1] is None:
            return "the direct assignment"
        return f"group {group_label(self.state, key[1])!r}"

    def _source_events(self, key: EntryKey) -> list[EventRef]:
        """The events behind a source: its entry's last change, and for a group its licences and the membership."""
        provenance = self.provenance
        events = []
        if key[0] and (entry_event := provenance.entries.get(key)) is not None:
            events.append(entry_event)
        if key[1] is not None:
            for found in (provenance.group_configs.get(key[1]), provenance.memberships.get(key[1])):
                if found is not None:
                    events.append(found)
        return events

    def _entry_summary(self, key: EntryKey, entry: Entry, intended: dict[str, int]) -> str:
        """One line on an entry in error, not tied to a plan."""
        why, _ = self._error_reason(key, entry, None)
        if entry.state == ACTIVE_WITH_ERROR and key[1] is not None and key[1] not in intended:
            return f"kept although group {group_label(self.state, key[1])!r} no longer assigns it: {why}"
        return why

    # ---- errors ---------------------------------------------------------------------------------------------------

    def _error_reason(self, key: EntryKey, entry: Entry, bit: int | None) -> tuple[str, list[EventRef]]:
        """The error of an entry in words, naming what it involves; about plan `bit` where the detail names it."""
        detail = entry.detail or {}
        code = entry.error
        if code == EXCLUSIVE:
            return self._exclusive(detail, bit)
        if code == DEPENDENCY:
            return self._dependency(key, entry, detail, bit)
        if code == LOCATION:
            return self._location(detail)
        if code == UNIQUENESS:
            return self._uniqueness(detail)
        if code == COUNT:
            return self._count(key[0])
        if code == OTHER:
            return self._other(key, detail)
        return str(detail.get("reason") or code), []

    def _exclusive(self, detail: dict[str, Any], bit: int | None) -> tuple[str, list[EventRef]]:
        pairs = detail.get("pairs", [])
        own = [p for p in pairs if bit is not None and p["plan"]["servicePlanId"] == self.catalog.plan_id(bit)]
        described = []
        events: list[EventRef] = []
        for pair in own or pairs:
            other = pair["conflictsWith"]
            holders, holder_events = self._licences_enabling(other["servicePlanId"])
            where = f" of {', '.join(holders)}" if holders else " (no longer held: reprocess the user to retry)"
            subject = "it" if own else pair["plan"]["servicePlanName"]
            described.append(f"{subject} clashes with {other['servicePlanName']}{where}")
            events += holder_events
        prefix = "" if own else "not applied as a whole: "
        return f"MutuallyExclusiveViolation, {prefix}" + "; ".join(described), events

    def _licences_enabling(self, plan_id: str) -> tuple[list[str], list[EventRef]]:
        """The user's applied licences that enable a plan now ("the direct STANDARDPACK"), and their events."""
        bit = self.catalog.resolve_plan(plan_id)
        if bit is None:
            return [], []
        labels, events = [], []
        for key, entry in sorted(self.user.entries.items(), key=lambda p: _source_order(p[0])):
            plans = self.catalog.skus[entry.sku_id].plans & ~entry.disabled
            if entry.state in APPLIED_STATES and plans & (1 << bit):
                part = self.catalog.skus[entry.sku_id].part_number
                labels.append(
                    f"the direct {part}" if key[1] is None else f"{part} from {group_label(self.state, key[1])!r}"
                )
                events += self._source_events(key)
        return labels, events

    def _dependency(
        self, key: EntryKey, entry: Entry, detail: dict[str, Any], bit: int | None
    ) -> tuple[str, list[EventRef]]:
        parts = []
        events: list[EventRef] = []
        for missing in detail.get("missing", []):
            dependent = missing["plan"]
            needs = " or ".join(p["servicePlanName"] for p in missing["requiresAnyOf"])
            holders, holder_events = self._licences_enabling(dependent["servicePlanId"])
            events += holder_events
            if entry.state == ACTIVE_WITH_ERROR:
                source = f" (of {', '.join(holders)})" if holders else ""
                parts.append(
                    f"DependencyViolation, kept on: switching it off would leave {dependent['servicePlanName']}"
                    f"{source} without {needs}"
                )
            elif bit is not None and dependent["servicePlanId"] == self.catalog.plan_id(bit):
                parts.append(f"DependencyViolation, it needs {needs}, which no licence of the user enables")
            else:
                parts.append(
                    f"DependencyViolation, {dependent['servicePlanName']} needs {needs}, which nothing enables"
                )
        return "; ".join(parts) or "DependencyViolation", events

    def _location(self, detail: dict[str, Any]) -> tuple[str, list[EventRef]]:
        plans = ", ".join(p["servicePlanName"] for p in detail.get("plans", []))
        location = detail.get("location") or "(none)"
        if detail.get("locationSource") == "tenant":
            where = f"the tenant's country {location}, used because the user has no usage location"
            events = [self.provenance.country] if self.provenance.country else []
        else:
            where = f"the user's usage location {location}"
            found = self.provenance.locations.get(self.user.user_id)
            events = [found] if found else []
        return f"ProhibitedInUsageLocationViolation, {plans} is not offered in {where}", events

    def _uniqueness(self, detail: dict[str, Any]) -> tuple[str, list[EventRef]]:
        parts = []
        events: list[EventRef] = []
        for shared in detail.get("addresses", []):
            holders = [user_label(self.state, h) for h in shared["alsoUsedBy"]]
            parts.append(f"the proxy address {shared['address']} is also held by {', '.join(holders)}")
            for user_id in [self.user.user_id, *shared["alsoUsedBy"]]:
                if (found := self.provenance.addresses.get(user_id)) is not None:
                    events.append(found)
        return "UniquenessViolation, " + "; ".join(parts), events

    def _count(self, sku_id: str) -> tuple[str, list[EventRef]]:
        state = self.state
        sub = state.subscriptions.get(sku_id)
        capacity = sub.capacity if sub is not None else 0
        part = self.catalog.skus[sku_id].part_number
        found = self.provenance.subscriptions.get(sku_id)
        return (
            f"CountViolation, no {part} seat was free when it was tried "
            f"({state.consumed.get(sku_id, 0)} of {capacity} in use now)",
            [found] if found else [],
        )

    def _other(self, key: EntryKey, detail: dict[str, Any]) -> tuple[str, list[EventRef]]:
        causes = detail.get("causedBy", [])
        named = ", ".join(f"{c['skuPartNumber']} ({c['error']})" for c in causes)
        events = []
        for cause in causes:
            if (found := self.provenance.entries.get((cause["skuId"], key[1]))) is not None:
                events.append(found)
        return f"Other, not applied because {named} of the same group failed (all or nothing)", events
