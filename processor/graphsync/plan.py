"""The input events that bring our log to a snapshot's state, in an order that reproduces it.

A first import rebuilds the tenant: settings, seats, users and groups first; then every source (a membership or a
direct assignment) whose entries Entra applied, oldest lastUpdatedDateTime first, so that scarce seats go where Entra
put them; then the sources Entra holds in error, which find the seats taken. Entries that are still applied but in
error (ActiveWithError) are the result of a change Entra could not complete, so their source is applied first and the
change replayed after: the member leaves the group, the group withdraws the SKU, or the user moves to the location
and is reprocessed. Addresses two users share reach the users whose mailbox licences Entra applied only after their
licences are on, and seats a SKU lacks (or has unused beside users in CountViolation) follow the applied users.

A later import appends only the differences between what the log holds and the snapshot, additions in the same
seat order; a user whose Entra entries changed after the last import without any change of its own is reprocessed,
which is what Entra must have done.

Each event carries the lastUpdatedDateTime of the entries it reproduces where there is one, else the snapshot's
time (setup events of a first import: its earliest entry time), so the log's times tell when Entra made a change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from processor.core.rules.uniqueness import address_key
from processor.graphsync.directory import UNITS, Directory, GroupProfile, Licenses, Profile
from processor.graphsync.history import LogHistory
from processor.graphsync.snapshot import GraphUser, LicenseState, Snapshot, instant

Step = tuple[str, dict[str, Any], str]  # (input event type, data, time)
Known = Callable[[str], bool]  # whether the catalogue knows a SKU
COUNT = "CountViolation"
LOCATION = "ProhibitedInUsageLocationViolation"


@dataclass(slots=True)
class Source:
    """A membership (group, user) or a user's direct SKU, with the entries Entra reports for it."""

    user_id: str
    group_id: str | None  # None: direct
    sku_id: str | None  # direct only
    entries: list[LicenseState] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return any(entry.applied for entry in self.entries)

    def time(self, fallback: str) -> str:
        """When Entra first updated one of its entries (the snapshot cannot tell when the source appeared)."""
        times = [entry.last_updated for entry in self.entries if entry.last_updated]
        return min(times, key=instant) if times else fallback


def first_import_steps(snapshot: Snapshot, desired: Directory, known: Known, time: str) -> list[Step]:
    """Rebuild a tenant new to the log; `known` tells the SKUs the catalogue knows."""
    users = {user.user_id: user for user in snapshot.users}
    entries = _known_entries(snapshot, desired, known)
    start = min((e.last_updated for es in entries.values() for e in es if e.last_updated), default=time, key=instant)
    held = _held_after_change(entries, desired)  # ActiveWithError entries whose source or SKU is gone
    relocated = {user_id for user_id, es in entries.items() if _relocated(es) and user_id not in desired.direct}
    withheld = _withheld_addresses(desired, entries)
    capacities = _seat_capacities(desired, entries)
    steps = _setup(desired, start, capacities, withheld, relocated, held)
    sources = _sources(desired, entries)
    added: set[tuple[str, str]] = set()
    quiet = [
        s for s in sources if s.group_id is not None and not s.entries and s.group_id not in desired.group_licenses
    ]
    for group_id, members in desired.members.items():  # members that get nothing: nested groups, unlicensed groups
        for member_id, kind in members.items():
            if kind == "group":
                steps.append(("GroupMemberAdded", _member(group_id, member_id, kind), start))
    for source in quiet:
        steps.append(_activation(source, desired, start, added))
    awe = [s for s in sources if any(e.state == "ActiveWithError" for e in s.entries) and s.group_id is not None]
    for source in sorted(awe, key=lambda s: s.time(start)):  # applied before the change Entra could not complete
        steps.append(_activation(source, desired, start, added))
    applied = [s for s in sources if s.applied and (s.group_id, s.user_id) not in added]
    for source in sorted(applied, key=lambda s: s.time(start)):
        steps.append(_activation(source, desired, source.time(start), added))
    steps += _completed_changes(awe, desired, held, relocated, users, start)
    for user_id in withheld:
        every_address = list(desired.users[user_id].proxy_addresses)
        steps.append(("UserUpdated", {"userId": user_id, "proxyAddresses": every_address}, start))
    failed = [s for s in sources if s.entries and not s.applied]
    for source in sorted(failed, key=lambda s: s.time(start)):
        steps.append(_activation(source, desired, source.time(start), added))
    for source in sources:  # members of licensed groups for whom Entra shows nothing yet
        if source.group_id is not None and (source.group_id, source.user_id) not in added:
            steps.append(_activation(source, desired, time, added))
    for sku_id in capacities:
        steps.append(("SubscriptionChanged", {"skuId": sku_id, "prepaidUnits": desired.subscriptions[sku_id]}, time))
    return steps


def difference_steps(
    current: Directory, desired: Directory, snapshot: Snapshot, history: LogHistory, known: Known, time: str
) -> list[Step]:
    """Bring the tenant of the log (`current`, `history`) to the snapshot (`desired`)."""
    entries = _known_entries(snapshot, desired, known)
    changes = _Differences(current, desired, history.last_time, time)
    new_sources = [s for s in _sources(desired, entries) if _is_new(s, current, desired)]
    for source in new_sources:  # a new user or group appears when its first membership does
        changes.appears(source.user_id, changes.when(source))
        if source.group_id is not None and source.group_id not in current.groups:
            changes.appears(source.group_id, changes.when(source))
    steps = changes.settings() + changes.profiles() + changes.removals()
    added: set[tuple[str, str]] = set()
    for source in sorted(new_sources, key=lambda s: (not s.applied, not s.entries, instant(s.time(time)))):
        steps.append(_activation(source, desired, changes.when(source), added))
        changes.touched.add(source.user_id)
    for group_id, members in desired.members.items():
        for member_id, kind in members.items():
            if kind == "group" and member_id not in current.members.get(group_id, {}):
                steps.append(("GroupMemberAdded", _member(group_id, member_id, kind), time))
    return steps + changes.reprocesses(entries)


class _Differences:
    """The steps between the directory of the log and the snapshot's, and which users they concern."""

    def __init__(self, current: Directory, desired: Directory, since: str | None, time: str) -> None:
        self.current, self.desired, self.since, self.time = current, desired, since, time
        self.touched: set[str] = set()  # users an event of this import concerns
        self.relicensed: set[str] = set()  # groups whose licences change
        self.first_seen: dict[str, str] = {}  # new user or group -> time of its first membership

    def when(self, source: Source) -> str:
        """The entries' time if Entra updated them after the last import, else the snapshot's."""
        moment = source.time(self.time)
        return moment if _after(moment, self.since) and not _after(moment, self.time) else self.time

    def appears(self, object_id: str, moment: str) -> None:
        if object_id not in self.first_seen or _after(self.first_seen[object_id], moment):
            self.first_seen[object_id] = moment

    def settings(self) -> list[Step]:
        current, desired, time = self.current, self.desired, self.time
        steps: list[Step] = []
        if desired.country != current.country:
            steps.append(("TenantConfigured", {"countryLetterCode": desired.country}, time))
        steps += _plan_additions({k: v for k, v in desired.plans_added.items() if k not in current.plans_added}, time)
        for sku_id in sorted(set(desired.subscriptions) | set(current.subscriptions)):
            units = desired.subscriptions.get(sku_id, dict.fromkeys(UNITS, 0))
            if units != current.subscriptions.get(sku_id, dict.fromkeys(UNITS, 0)):
                steps.append(("SubscriptionChanged", {"skuId": sku_id, "prepaidUnits": units}, time))
        return steps

    def profiles(self) -> list[Step]:
        """Users restored, created or changed; groups created or changed."""
        current, desired, time = self.current, self.desired, self.time
        steps: list[Step] = []
        for user_id, profile in desired.users.items():
            if user_id in current.deleted_users:
                steps.append(("UserRestored", {"userId": user_id}, time))
                self.touched.add(user_id)
            old = current.users.get(user_id)
            if old is None or old.upn != profile.upn:  # UserUpdated cannot carry a new userPrincipalName
                created = _created(user_id, profile, profile.proxy_addresses, profile.usage_location)
                steps.append(("UserCreated", created, self.first_seen.get(user_id, time)))
                self.touched.add(user_id)
            elif old != profile:
                steps.append(("UserUpdated", _profile_update(user_id, old, profile), time))
                self.touched.add(user_id)
        for group_id, group in desired.groups.items():
            if current.groups.get(group_id) != group:
                steps.append(("GroupCreated", _group_created(group_id, group), self.first_seen.get(group_id, time)))
        return steps

    def removals(self) -> list[Step]:
        """Users and groups gone, memberships and direct licences removed, group licences changed: all before the
        additions, so that the seats they free are there for them."""
        current, desired, time = self.current, self.desired, self.time
        steps: list[Step] = []
        for user_id in current.users.keys() - desired.users.keys():
            steps.append(("UserDeleted", {"userId": user_id}, time))  # Graph lists no deleted user: soft-deleted
        for group_id, members in current.members.items():
            for member_id in members.keys() - desired.members.get(group_id, {}).keys():
                if group_id in desired.groups:
                    steps.append(("GroupMemberRemoved", {"groupId": group_id, "memberId": member_id}, time))
                    self.touched.add(member_id)
        for user_id, licenses in current.direct.items():
            removed = sorted(licenses.keys() - desired.direct.get(user_id, {}).keys())
            if removed and user_id in desired.users:
                body = {"userId": user_id, "addLicenses": [], "removeLicenses": removed}
                steps.append(("UserLicensesChanged", body, time))
                self.touched.add(user_id)
        for group_id in desired.groups:
            before, after = current.group_licenses.get(group_id, {}), desired.group_licenses.get(group_id, {})
            if before != after:
                changed = {sku: plans for sku, plans in after.items() if before.get(sku) != plans}
                withdrawn = sorted(before.keys() - after.keys())
                moment = self.first_seen.get(group_id, time)
                steps.append(("GroupLicensesChanged", _group_licenses(group_id, changed, withdrawn), moment))
                self.relicensed.add(group_id)
        for group_id in sorted(current.groups.keys() - desired.groups.keys()):
            if current.group_licenses.get(group_id):  # Entra deletes only unlicensed groups: the licences went first
                withdrawn = sorted(current.group_licenses[group_id])
                steps.append(("GroupLicensesChanged", _group_licenses(group_id, {}, withdrawn), time))
            steps.append(("GroupDeleted", {"groupId": group_id}, time))
        return steps

    def reprocesses(self, entries: dict[str, list[LicenseState]]) -> list[Step]:
        """Users Entra re-evaluated after the last import with nothing of theirs changed (a Reprocess, a retry)."""
        steps: list[Step] = []
        for user_id in sorted(_updated_since(entries, self.since) - self.touched):
            licensed = any(user_id in self.desired.members.get(g, {}) for g in self.relicensed)
            if not licensed and user_id in self.desired.users:
                moments = [e.last_updated for e in entries[user_id] if e.last_updated]
                moments = [m for m in moments if not _after(m, self.time)]
                steps.append(
                    ("LicenseReprocessRequested", {"userId": user_id}, max(moments, key=instant, default=self.time))
                )
        return steps


# ---- the parts ------------------------------------------------------------------------------------------------


def _setup(
    desired: Directory,
    start: str,
    capacities: dict[str, dict[str, int]],
    withheld: dict[str, set[str]],
    relocated: set[str],
    held: dict[str, Licenses],
) -> list[Step]:
    """The tenant, its plans and seats, its users (shared addresses held back, relocated users still without their
    location), its groups and their licences (with the SKUs they withdrew later), before any member is added."""
    steps: list[Step] = [("TenantConfigured", {"countryLetterCode": desired.country}, start)]
    steps += _plan_additions(desired.plans_added, start)
    for sku_id, units in desired.subscriptions.items():
        setup = capacities.get(sku_id, units)
        steps.append(("SubscriptionChanged", {"skuId": sku_id, "prepaidUnits": setup}, start))
    for user_id, profile in desired.users.items():
        addresses = tuple(a for a in profile.proxy_addresses if a not in withheld.get(user_id, ()))
        location = None if user_id in relocated else profile.usage_location
        steps.append(("UserCreated", _created(user_id, profile, addresses, location), start))
    for group_id, group in desired.groups.items():
        steps.append(("GroupCreated", _group_created(group_id, group), start))
    for group_id in desired.groups:
        licenses = {**desired.group_licenses.get(group_id, {}), **held.get(group_id, {})}
        if licenses:
            steps.append(("GroupLicensesChanged", _group_licenses(group_id, licenses, []), start))

    return steps


def _known_entries(snapshot: Snapshot, desired: Directory, known: Known) -> dict[str, list[LicenseState]]:
    """Each user's entries of SKUs the catalogue knows, whose source group is in the snapshot."""
    return {
        user.user_id: [
            e for e in user.states if known(e.sku_id) and (e.group_id is None or e.group_id in desired.groups)
        ]
        for user in snapshot.users
    }


def _sources(desired: Directory, entries: dict[str, list[LicenseState]]) -> list[Source]:
    """Every membership of a user in a group, every direct assignment, and every group a user holds entries from
    without being its member (Entra kept them), with their entries."""
    sources: dict[tuple[str, str | None, str | None], Source] = {}
    for group_id, members in desired.members.items():
        for member_id, kind in members.items():
            if kind == "user" and member_id in desired.users:
                sources[(member_id, group_id, None)] = Source(member_id, group_id, None)
    for user_id, licenses in desired.direct.items():
        for sku_id in licenses:
            sources[(user_id, None, sku_id)] = Source(user_id, None, sku_id)
    for user_id, states in entries.items():
        for entry in states:
            key = (user_id, entry.group_id, entry.sku_id if entry.group_id is None else None)
            source = sources.get(key)
            if source is None and entry.group_id is not None and entry.state == "ActiveWithError":
                source = sources[key] = Source(user_id, entry.group_id, None)
            if source is not None:
                source.entries.append(entry)
    return list(sources.values())


def _activation(source: Source, desired: Directory, time: str, added: set[tuple[str, str]]) -> Step:
    if source.group_id is None:
        assert source.sku_id is not None
        plans = desired.direct[source.user_id][source.sku_id]
        data = {"userId": source.user_id, "addLicenses": [{"skuId": source.sku_id, "disabledPlans": list(plans)}]}
        return ("UserLicensesChanged", {**data, "removeLicenses": []}, time)
    added.add((source.group_id, source.user_id))
    return ("GroupMemberAdded", _member(source.group_id, source.user_id, "user"), time)


def _held_after_change(entries: dict[str, list[LicenseState]], desired: Directory) -> dict[str, Licenses]:
    """Per group, the SKUs it no longer assigns that members still hold ActiveWithError (a blocked withdrawal)."""
    held: dict[str, Licenses] = {}
    for states in entries.values():
        for e in states:
            if e.group_id is not None and e.state == "ActiveWithError":
                if e.sku_id not in desired.group_licenses.get(e.group_id, {}):
                    held.setdefault(e.group_id, {}).setdefault(e.sku_id, e.disabled_plans)
    return held


def _relocated(states: Iterable[LicenseState]) -> bool:
    """Whether an entry stays applied although the user's location forbids a plan: it was applied before a move."""
    return any(e.state == "ActiveWithError" and e.error == LOCATION and e.group_id for e in states)


def _completed_changes(
    awe: list[Source],
    desired: Directory,
    held: dict[str, Licenses],
    relocated: set[str],
    users: dict[str, GraphUser],
    start: str,
) -> list[Step]:
    """The changes Entra could not complete on entries it holds ActiveWithError, replayed in time order."""
    timed: list[tuple[str, Step]] = []
    for source in awe:
        assert source.group_id is not None
        moment = max((e.last_updated or start for e in source.entries), default=start)
        if source.user_id not in desired.members.get(source.group_id, {}):
            step = ("GroupMemberRemoved", {"groupId": source.group_id, "memberId": source.user_id}, moment)
            timed.append((moment, step))
    for group_id, licenses in held.items():
        moment = max(
            (
                e.last_updated or start
                for user in users.values()
                for e in user.states
                if e.group_id == group_id and e.sku_id in licenses
            ),
            default=start,
        )
        timed.append((moment, ("GroupLicensesChanged", _group_licenses(group_id, {}, sorted(licenses)), moment)))
    for user_id in sorted(relocated):
        moment = max((e.last_updated or start for e in users[user_id].states if e.error == LOCATION), default=start)
        location = desired.users[user_id].usage_location
        timed.append((moment, ("UserUpdated", {"userId": user_id, "usageLocation": location}, moment)))
        timed.append((moment, ("LicenseReprocessRequested", {"userId": user_id}, moment)))
    timed.sort(key=lambda pair: pair[0])
    return [step for _, step in timed]


def _withheld_addresses(desired: Directory, entries: dict[str, list[LicenseState]]) -> dict[str, set[str]]:
    """Addresses that two users share, held back from the users without a UniquenessViolation until their licences
    are applied: Entra gave those users their mailbox before the other user took the address."""
    holders: dict[str, list[str]] = {}
    for user_id, profile in desired.users.items():
        for address in profile.proxy_addresses:
            holders.setdefault(address_key(address), []).append(user_id)
    withheld: dict[str, set[str]] = {}
    for user_id, profile in desired.users.items():
        if any(e.error == "UniquenessViolation" for e in entries.get(user_id, ())):
            continue
        shared = {a for a in profile.proxy_addresses if len(set(holders[address_key(a)])) > 1}
        if shared:
            withheld[user_id] = shared
    return withheld


def _seat_capacities(desired: Directory, entries: dict[str, list[LicenseState]]) -> dict[str, dict[str, int]]:
    """SKUs whose seats must equal the users Entra applied them to while the import assigns them: more users than
    seats (capacity lowered after assignment), or seats to spare beside users in CountViolation (bought later,
    not reprocessed). Their real capacity follows the assignments."""
    holders: dict[str, set[str]] = {}
    waiting: set[str] = set()
    for user_id, states in entries.items():
        for e in states:
            if e.applied:
                holders.setdefault(e.sku_id, set()).add(user_id)
            elif e.error == COUNT:
                waiting.add(e.sku_id)
    capacities = {}
    for sku_id, units in desired.subscriptions.items():
        needed = len(holders.get(sku_id, ()))
        capacity = units["enabled"] + units["warning"]
        if needed > capacity or (sku_id in waiting and needed < capacity):
            capacities[sku_id] = {**dict.fromkeys(UNITS, 0), "enabled": needed}
    return capacities


def _is_new(source: Source, current: Directory, desired: Directory) -> bool:
    """A membership or direct assignment the snapshot holds and the log does not (a direct one with other plans)."""
    if source.group_id is not None:
        members = desired.members.get(source.group_id, {})
        return source.user_id in members and source.user_id not in current.members.get(source.group_id, {})
    sku_id = source.sku_id or ""
    return current.direct.get(source.user_id, {}).get(sku_id) != desired.direct[source.user_id][sku_id]


def _after(moment: str | None, other: str | None) -> bool:
    """Whether `moment` is later than `other` (every moment is later than none)."""
    return moment is not None and (other is None or instant(moment) > instant(other))


def _updated_since(entries: dict[str, list[LicenseState]], since: str | None) -> set[str]:
    return {user_id for user_id, states in entries.items() if any(_after(e.last_updated, since) for e in states)}


def _plan_additions(plans: dict[tuple[str, str], str], time: str) -> list[Step]:
    return [
        ("ServicePlanAdded", {"skuId": sku, "servicePlanId": plan, "servicePlanName": plans[(sku, plan)]}, time)
        for sku, plan in sorted(plans)
    ]


def _created(user_id: str, profile: Profile, addresses: tuple[str, ...], location: str | None) -> dict[str, Any]:
    return {
        "userId": user_id,
        "userPrincipalName": profile.upn,
        "displayName": profile.display_name,
        "usageLocation": location,
        "proxyAddresses": list(addresses),
        "accountEnabled": profile.account_enabled,
    }


def _profile_update(user_id: str, old: Profile, new: Profile) -> dict[str, Any]:
    data: dict[str, Any] = {"userId": user_id}
    if old.usage_location != new.usage_location:
        data["usageLocation"] = new.usage_location
    if old.proxy_addresses != new.proxy_addresses:
        data["proxyAddresses"] = list(new.proxy_addresses)
    if old.account_enabled != new.account_enabled:
        data["accountEnabled"] = new.account_enabled
    if old.display_name != new.display_name and new.display_name is not None:
        data["displayName"] = new.display_name
    return data


def _group_created(group_id: str, group: GroupProfile) -> dict[str, Any]:
    return {
        "groupId": group_id,
        "displayName": group.display_name,
        "kind": group.kind,
        "securityEnabled": group.security_enabled,
    }


def _group_licenses(group_id: str, add: Licenses, remove: list[str]) -> dict[str, Any]:
    return {
        "groupId": group_id,
        "addLicenses": [{"skuId": sku, "disabledPlans": list(plans)} for sku, plans in add.items()],
        "removeLicenses": remove,
    }


def _member(group_id: str, member_id: str, kind: str) -> dict[str, Any]:
    return {"groupId": group_id, "memberId": member_id, "memberType": kind}
