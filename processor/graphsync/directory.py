"""A tenant's directory as input events describe it: settings, seats, users, groups, memberships, assignments.

Built from a snapshot (what Entra holds now) or from the database (what the log has told us so far: the read models
for profiles, groups and seats, the log for memberships and the licences asked), so that an import appends exactly
the differences between the two. Licences count as asked, not as granted: one our rules refused is not asked again
by the next import of the same snapshot.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from processor.graphsync.history import LogHistory
from processor.graphsync.products import ProductCheck
from processor.graphsync.snapshot import Snapshot

Licenses = dict[str, tuple[str, ...]]  # skuId -> sorted disabled plan GUIDs, in assignment order
UNITS = ("enabled", "warning", "suspended", "lockedOut")


@dataclass(frozen=True, slots=True)
class Profile:
    upn: str | None
    display_name: str | None
    usage_location: str | None
    proxy_addresses: tuple[str, ...]
    account_enabled: bool


@dataclass(frozen=True, slots=True)
class GroupProfile:
    display_name: str | None
    kind: str
    security_enabled: bool


@dataclass(slots=True)
class Directory:
    country: str | None = None
    subscriptions: dict[str, dict[str, int]] = field(default_factory=dict)  # skuId -> prepaidUnits (UNITS)
    plans_added: dict[tuple[str, str], str] = field(default_factory=dict)  # (skuId, servicePlanId) -> its name
    users: dict[str, Profile] = field(default_factory=dict)  # users not deleted
    deleted_users: set[str] = field(default_factory=set)  # soft-deleted (restorable)
    direct: dict[str, Licenses] = field(default_factory=dict)  # userId -> its direct assignments
    groups: dict[str, GroupProfile] = field(default_factory=dict)
    group_licenses: dict[str, Licenses] = field(default_factory=dict)
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # groupId -> memberId -> "user" | "group"


def snapshot_directory(snapshot: Snapshot, products: ProductCheck) -> Directory:
    """The directory a snapshot shows, without the SKUs (and their entries) the catalogue does not know."""
    known = products.known_sku
    directory = Directory(country=snapshot.country)
    for sku in snapshot.skus:
        if known(sku.sku_id) and any(sku.prepaid.values()):  # the database keeps no SKU without seats either
            directory.subscriptions[sku.sku_id] = {unit: sku.prepaid[unit] for unit in UNITS}
    directory.plans_added = {(sku, plan): name for sku, plan, name in products.new_plans}
    for user in snapshot.users:
        directory.users[user.user_id] = Profile(
            user.upn, user.display_name, user.usage_location, user.proxy_addresses, user.account_enabled
        )
        direct = {s.sku_id: s.disabled_plans for s in user.states if s.group_id is None and known(s.sku_id)}
        if direct:
            directory.direct[user.user_id] = direct
    for group in snapshot.groups:
        directory.groups[group.group_id] = GroupProfile(group.display_name, group.kind, group.security_enabled)
        licenses = {sku: plans for sku, plans in group.licenses if known(sku)}
        if licenses:
            directory.group_licenses[group.group_id] = licenses
        members = {m.member_id: m.member_type for m in snapshot.members[group.group_id]}
        if members:
            directory.members[group.group_id] = members
    return directory


def database_directory(conn: sqlite3.Connection, tenant: str, history: LogHistory) -> Directory | None:
    """The directory our read models and log hold for the tenant; None if the tenant is not in the database."""
    row = conn.execute("SELECT country_letter_code FROM tenants WHERE tenant = ?", (tenant,)).fetchone()
    if row is None:
        return None
    directory = Directory(country=row[0], plans_added=dict.fromkeys(history.plans_added, ""))
    for sku_id, *units in conn.execute(
        "SELECT sku_id, enabled, warning, suspended, locked_out FROM product_usage WHERE tenant = ?", (tenant,)
    ):
        if any(units):
            directory.subscriptions[sku_id] = dict(zip(UNITS, units))
    for user_id, upn, name, location, addresses, enabled, lifecycle in conn.execute(
        "SELECT user_id, user_principal_name, display_name, usage_location, proxy_addresses, account_enabled, "
        "lifecycle FROM users WHERE tenant = ? ORDER BY user_id",
        (tenant,),
    ):
        if lifecycle == "softDeleted":
            directory.deleted_users.add(user_id)
        else:
            directory.users[user_id] = Profile(upn, name, location, tuple(json.loads(addresses)), bool(enabled))
    directory.direct = {user: dict(asked) for user, asked in history.direct_licenses.items() if asked}
    for group_id, name, kind, security in conn.execute(
        "SELECT group_id, display_name, kind, security_enabled FROM groups "
        "WHERE tenant = ? AND deleted = 0 ORDER BY group_id",
        (tenant,),
    ):
        directory.groups[group_id] = GroupProfile(name, kind, bool(security))
        asked = history.group_licenses.get(group_id)
        if asked:
            directory.group_licenses[group_id] = dict(asked)
    for group_id, members in history.members.items():
        kept = {member: kind for member, kind in members.items() if group_id in directory.groups}
        if kept:
            directory.members[group_id] = kept
    return directory
