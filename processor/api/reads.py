"""The read side of the server: queries over the read models, in the licensing domain's names, paged by key.

Graph's routes and the dashboard both read through this module; neither writes SQL of its own. Every list is paged
by key (the id after which a page starts), so a page of a 100,000-user tenant costs what a page of a small one does.
Each thread of the server reads on its own read-only connection, beside the one writer (processor.api.desk).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from processor.api.readonly import ReadOnlyConnections

IN_ERROR = "('Error', 'ActiveWithError')"  # an entry whose latest change failed
HELD = "('Active', 'ActiveWithError')"  # an entry the user holds the SKU through


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: str
    country_letter_code: str | None
    mode: str
    ruleset: str


@dataclass(frozen=True, slots=True)
class UserRow:
    user_id: str
    user_principal_name: str | None
    display_name: str | None
    usage_location: str | None
    proxy_addresses: list[str]
    account_enabled: bool
    lifecycle: str  # active, softDeleted


@dataclass(frozen=True, slots=True)
class Assignment:
    """One licence assignment state: a SKU from one source (a group, or direct)."""

    sku_id: str
    sku_part_number: str
    assigned_by_group: str | None
    state: str
    error: str
    disabled_plans: list[str]
    error_detail: dict[str, Any] | None
    last_updated: str


@dataclass(frozen=True, slots=True)
class UserLicenses:
    assigned_licenses: list[dict[str, Any]]  # [{skuId, skuPartNumber, disabledPlans}]
    suspended_plans: list[str]


@dataclass(frozen=True, slots=True)
class GroupRow:
    group_id: str
    display_name: str | None
    kind: str
    security_enabled: bool
    assigned_licenses: list[dict[str, Any]]
    processing_state: str
    succeeded: int
    failed: int


@dataclass(frozen=True, slots=True)
class MemberError:
    """A user in error from a group's licence, with what an admin needs to fix it."""

    user_id: str
    sku_id: str
    sku_part_number: str
    state: str
    error: str
    reason: str | None
    message: str | None
    suggested_fix: str | None
    since: str


@dataclass(frozen=True, slots=True)
class GroupAttention:
    group_id: str
    display_name: str | None
    users_in_error: int
    top_reason: str | None


@dataclass(frozen=True, slots=True)
class Product:
    sku_id: str
    sku_part_number: str
    capability_status: str
    enabled: int
    warning: int
    suspended: int
    locked_out: int
    consumed: int
    available: int
    over_assigned: bool


@dataclass(frozen=True, slots=True)
class AuditRecord:
    record_id: str
    position: int
    time: str
    activity: str
    actor: str
    target: str
    result: str | None


@dataclass(frozen=True, slots=True)
class RejectedCommand:
    decision_id: str
    position: int
    event_id: str
    type: str
    error: str
    message: str
    target: str | None
    time: str
    detail: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Which users a list holds: those holding a SKU, those holding some licence (or none), by name prefix."""

    holding_sku: str | None = None
    holds_any: bool | None = None  # True: at least one licence, False: none
    name_prefix: str | None = None


def like_prefix(prefix: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') of the strings that start with `prefix`, its wildcards taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _loads(text: str | None) -> Any:
    return orjson.loads(text) if text else None


def _plans(text: str) -> list[str]:
    """A JSON list of plan ids as the read models store it (most are empty)."""
    return [] if text == "[]" else list(orjson.loads(text))


class ReadModels:
    """Queries over the read models of one database file (opened read-only, one connection per thread)."""

    def __init__(self, database: Path) -> None:
        # mmap_size as the writer maps the file: reads hit the same pages
        self._conn = ReadOnlyConnections(database, "mmap_size = 1073741824").get

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Queries inside see one committed state of the store, whatever the writer commits meanwhile."""
        conn = self._conn()
        if conn.in_transaction:  # nested: the outer snapshot holds
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn().execute(sql, args).fetchall()

    def _one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._conn().execute(sql, args).fetchone()
        return row

    # ---- tenants ------------------------------------------------------------------------------------------

    def tenants(self) -> list[Tenant]:
        return [Tenant(*row) for row in self._all("SELECT tenant, country_letter_code, mode, ruleset FROM tenants")]

    def tenant(self, tenant_id: str) -> Tenant | None:
        row = self._one("SELECT tenant, country_letter_code, mode, ruleset FROM tenants WHERE tenant = ?", (tenant_id,))
        return Tenant(*row) if row else None

    # ---- users --------------------------------------------------------------------------------------------

    _USER = (
        "SELECT u.user_id, u.user_principal_name, u.display_name, u.usage_location, u.proxy_addresses, "
        "u.account_enabled, u.lifecycle FROM users u"
    )

    @staticmethod
    def _user(row: tuple[Any, ...]) -> UserRow:
        user_id, upn, name, location, addresses, enabled, lifecycle = row
        return UserRow(user_id, upn, name, location, orjson.loads(addresses), bool(enabled), lifecycle)

    @staticmethod
    def _user_where(tenant: str, which: UserFilter) -> tuple[str, list[Any]]:
        where, args = ["u.tenant = ?", "u.lifecycle = 'active'"], [tenant]
        if which.holding_sku is not None:
            where.append(
                "EXISTS (SELECT 1 FROM license_assignment_rows a WHERE a.tenant = u.tenant AND a.user_id = u.user_id "
                f"AND a.sku_id = ? AND a.state IN {HELD})"
            )
            args.append(which.holding_sku)
        if which.holds_any is not None:
            where.append(
                f"{'' if which.holds_any else 'NOT '}EXISTS (SELECT 1 FROM license_assignment_rows a "
                f"WHERE a.tenant = u.tenant AND a.user_id = u.user_id AND a.state IN {HELD})"
            )
        if which.name_prefix is not None:
            where.append("u.display_name LIKE ? ESCAPE '\\'")
            args.append(like_prefix(which.name_prefix))
        return " AND ".join(where), args

    def users(self, tenant: str, after: str | None, limit: int, which: UserFilter = UserFilter()) -> list[UserRow]:
        """Active users (soft-deleted ones are not listed, as in Graph), by id, after the id `after`."""
        where, args = self._user_where(tenant, which)
        if after is not None:
            where += " AND u.user_id > ?"
            args.append(after)
        rows = self._all(f"{self._USER} WHERE {where} ORDER BY u.user_id LIMIT ?", [*args, limit])
        return [self._user(row) for row in rows]

    def count_users(self, tenant: str, which: UserFilter = UserFilter()) -> int:
        where, args = self._user_where(tenant, which)
        row = self._one(f"SELECT count(*) FROM users u WHERE {where}", args)
        return int(row[0]) if row else 0

    def user(self, tenant: str, user_id: str) -> UserRow | None:
        row = self._one(f"{self._USER} WHERE u.tenant = ? AND u.user_id = ?", (tenant, user_id))
        return self._user(row) if row else None

    def users_by_id(self, tenant: str, user_ids: Sequence[str]) -> dict[str, UserRow]:
        found: dict[str, UserRow] = {}
        for chunk in _chunks(user_ids):
            marks = ", ".join("?" for _ in chunk)
            for row in self._all(f"{self._USER} WHERE u.tenant = ? AND u.user_id IN ({marks})", [tenant, *chunk]):
                user = self._user(row)
                found[user.user_id] = user
        return found

    def assignments(
        self, tenant: str, user_ids: Sequence[str], with_details: bool = False
    ) -> dict[str, list[Assignment]]:
        """Each user's licence assignment states, by SKU part number, direct before groups, groups by id; their
        error details (reason, message, fix) only if asked for (Graph has no place for them)."""
        found: dict[str, list[Assignment]] = {user_id: [] for user_id in user_ids}
        source = "license_assignments" if with_details else "license_assignment_rows"
        detail = "error_detail" if with_details else "NULL"
        for chunk in _chunks(user_ids):
            marks = ", ".join("?" for _ in chunk)
            rows = self._all(
                f"SELECT user_id, sku_id, sku_part_number, assigned_by_group, state, error, disabled_plans, {detail}, "
                f"last_updated FROM {source} WHERE tenant = ? AND user_id IN ({marks}) "
                "ORDER BY user_id, sku_part_number, source != '', source",
                [tenant, *chunk],
            )
            for user_id, sku, part, group, state, error, disabled, details, updated in rows:
                found[user_id].append(
                    Assignment(sku, part, group, state, error, _plans(disabled), _loads(details), updated)
                )
        return found

    def licenses(self, tenant: str, user_ids: Sequence[str]) -> dict[str, UserLicenses]:
        found = {user_id: UserLicenses([], []) for user_id in user_ids}
        for chunk in _chunks(user_ids):
            marks = ", ".join("?" for _ in chunk)
            rows = self._all(
                "SELECT user_id, assigned_licenses, suspended_plans FROM user_licenses "
                f"WHERE tenant = ? AND user_id IN ({marks})",
                [tenant, *chunk],
            )
            for user_id, assigned, suspended in rows:
                found[user_id] = UserLicenses(orjson.loads(assigned), orjson.loads(suspended))
        return found

    def rejection_of(self, tenant: str, event_id: str) -> RejectedCommand | None:
        """The refusal of the command logged with this id, if it was refused."""
        row = self._one(
            "SELECT decision_id, position, event_id, type, error, message, target, time, detail "
            "FROM rejected_commands WHERE tenant = ? AND event_id = ?",
            (tenant, event_id),
        )
        return _rejected(row) if row else None

    def users_in_error(self, tenant: str, sku_id: str | None = None) -> list[str]:
        """Every user with an entry in error (of one SKU, if given), by id: whom a bulk reprocess retries."""
        sql = (
            "SELECT DISTINCT a.user_id FROM license_assignment_rows a INDEXED BY license_assignments_not_active "
            f"JOIN users u ON u.tenant = a.tenant AND u.user_id = a.user_id AND u.lifecycle = 'active' "
            f"WHERE a.tenant = ? AND a.state != 'Active' AND a.state IN {IN_ERROR}"
        )
        args: list[Any] = [tenant]
        if sku_id is not None:
            sql += " AND a.sku_id = ?"
            args.append(sku_id)
        return [user_id for (user_id,) in self._all(sql + " ORDER BY a.user_id", args)]

    # ---- groups -------------------------------------------------------------------------------------------

    _GROUP = (
        "SELECT g.group_id, g.display_name, g.kind, g.security_enabled, g.assigned_licenses, "
        "COALESCE(p.state, 'ProcessingComplete'), COALESCE(p.succeeded, 0), COALESCE(p.failed, 0) "
        "FROM groups g LEFT JOIN group_processing p ON p.tenant = g.tenant AND p.group_id = g.group_id"
    )

    @staticmethod
    def _group(row: tuple[Any, ...]) -> GroupRow:
        group_id, name, kind, security, licenses, state, succeeded, failed = row
        return GroupRow(group_id, name, kind, bool(security), orjson.loads(licenses), state, succeeded, failed)

    @staticmethod
    def _group_where(tenant: str, with_errors: bool, name_prefix: str | None) -> tuple[str, list[Any]]:
        where, args = ["g.tenant = ?", "g.deleted = 0"], [tenant]
        if with_errors:
            where.append("g.group_id IN (SELECT group_id FROM group_member_errors WHERE tenant = ?)")
            args.append(tenant)
        if name_prefix is not None:
            where.append("g.display_name LIKE ? ESCAPE '\\'")
            args.append(like_prefix(name_prefix))
        return " AND ".join(where), args

    def groups(
        self, tenant: str, after: str | None, limit: int, with_errors: bool = False, name_prefix: str | None = None
    ) -> list[GroupRow]:
        where, args = self._group_where(tenant, with_errors, name_prefix)
        if after is not None:
            where += " AND g.group_id > ?"
            args.append(after)
        return [
            self._group(row)
            for row in self._all(f"{self._GROUP} WHERE {where} ORDER BY g.group_id LIMIT ?", [*args, limit])
        ]

    def count_groups(self, tenant: str, with_errors: bool = False, name_prefix: str | None = None) -> int:
        where, args = self._group_where(tenant, with_errors, name_prefix)
        row = self._one(f"SELECT count(*) FROM groups g WHERE {where}", args)
        return int(row[0]) if row else 0

    def group(self, tenant: str, group_id: str) -> GroupRow | None:
        row = self._one(f"{self._GROUP} WHERE g.tenant = ? AND g.group_id = ? AND g.deleted = 0", (tenant, group_id))
        return self._group(row) if row else None

    def groups_by_id(self, tenant: str, group_ids: Sequence[str]) -> dict[str, GroupRow]:
        found: dict[str, GroupRow] = {}
        for chunk in _chunks(group_ids):
            marks = ", ".join("?" for _ in chunk)
            sql = f"{self._GROUP} WHERE g.tenant = ? AND g.deleted = 0 AND g.group_id IN ({marks})"
            for row in self._all(sql, [tenant, *chunk]):
                group = self._group(row)
                found[group.group_id] = group
        return found

    def members_in_error(self, tenant: str, group_id: str, after: str | None, limit: int) -> list[str]:
        """The users (former members included) with an entry from the group in error, by id."""
        sql = "SELECT DISTINCT user_id FROM group_member_errors WHERE tenant = ? AND group_id = ?"
        args: list[Any] = [tenant, group_id]
        if after is not None:
            sql += " AND user_id > ?"
            args.append(after)
        return [user_id for (user_id,) in self._all(sql + " ORDER BY user_id LIMIT ?", [*args, limit])]

    def count_members_in_error(self, tenant: str, group_id: str) -> int:
        row = self._one(
            "SELECT count(DISTINCT user_id) FROM group_member_errors WHERE tenant = ? AND group_id = ?",
            (tenant, group_id),
        )
        return int(row[0]) if row else 0

    def member_errors(self, tenant: str, group_id: str, user_ids: Sequence[str]) -> list[MemberError]:
        """The error entries from the group of these users, with reason, message and suggested fix."""
        found: list[MemberError] = []
        for chunk in _chunks(user_ids):
            marks = ", ".join("?" for _ in chunk)
            rows = self._all(
                "SELECT user_id, sku_id, sku_part_number, state, error, reason, message, suggested_fix, since "
                f"FROM group_member_errors WHERE tenant = ? AND group_id = ? AND user_id IN ({marks}) "
                "ORDER BY user_id, sku_part_number",
                [tenant, group_id, *chunk],
            )
            found += [MemberError(*row) for row in rows]
        return found

    def groups_needing_attention(self, tenant: str) -> list[GroupAttention]:
        """Groups with users in error, most users first, each with the reason most of them share."""
        counts: dict[str, set[str]] = {}
        reasons: dict[str, dict[str, int]] = {}
        for group_id, user_id, reason in self._all(
            "SELECT group_id, user_id, reason FROM group_member_errors WHERE tenant = ?", (tenant,)
        ):
            counts.setdefault(group_id, set()).add(user_id)
            by_reason = reasons.setdefault(group_id, {})
            by_reason[reason or ""] = by_reason.get(reason or "", 0) + 1
        groups = self.groups_by_id(tenant, sorted(counts))
        found = [
            GroupAttention(
                group_id,
                groups[group_id].display_name,
                len(users),
                max(sorted(reasons[group_id]), key=lambda reason: reasons[group_id][reason]) or None,
            )
            for group_id, users in counts.items()
            if group_id in groups
        ]
        return sorted(found, key=lambda g: (-g.users_in_error, g.group_id))

    # ---- products, audit, rejections ----------------------------------------------------------------------

    def products(self, tenant: str) -> list[Product]:
        rows = self._all(
            "SELECT sku_id, sku_part_number, capability_status, enabled, warning, suspended, locked_out, consumed, "
            "available, over_assigned FROM product_usage WHERE tenant = ? ORDER BY sku_part_number, sku_id",
            (tenant,),
        )
        return [
            Product(sku, part, status, enabled, warning, suspended, locked, consumed, available, bool(over))
            for sku, part, status, enabled, warning, suspended, locked, consumed, available, over in rows
        ]

    def audit_records(
        self, tenant: str, after: tuple[int, str] | None, limit: int, activity: str | None = None
    ) -> list[AuditRecord]:
        """Audit records in log order, after the (position, record id) `after`."""
        sql = "SELECT decision_id, position, time, activity, actor, target, result FROM audit_log WHERE tenant = ?"
        args: list[Any] = [tenant]
        if activity is not None:
            sql += " AND activity = ?"
            args.append(activity)
        if after is not None:
            sql += " AND (position, decision_id) > (?, ?)"
            args += list(after)
        return [AuditRecord(*row) for row in self._all(sql + " ORDER BY position, decision_id LIMIT ?", [*args, limit])]

    def count_audit_records(self, tenant: str, activity: str | None = None) -> int:
        sql, args = "SELECT count(*) FROM audit_log WHERE tenant = ?", [tenant]
        if activity is not None:
            sql += " AND activity = ?"
            args.append(activity)
        row = self._one(sql, args)
        return int(row[0]) if row else 0

    def rejected_commands(self, tenant: str, after: tuple[int, str] | None, limit: int) -> list[RejectedCommand]:
        sql = (
            "SELECT decision_id, position, event_id, type, error, message, target, time, detail "
            "FROM rejected_commands WHERE tenant = ?"
        )
        args: list[Any] = [tenant]
        if after is not None:
            sql += " AND (position, decision_id) > (?, ?)"
            args += list(after)
        rows = self._all(sql + " ORDER BY position, decision_id LIMIT ?", [*args, limit])
        return [_rejected(row) for row in rows]


def _rejected(row: tuple[Any, ...]) -> RejectedCommand:
    decision_id, position, event_id, kind, error, message, target, time, detail = row
    return RejectedCommand(decision_id, position, event_id, kind, error, message, target, time, _loads(detail))


def _chunks(ids: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    """Ids in chunks below SQLite's limit of bound parameters."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
