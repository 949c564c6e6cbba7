"""The tenant aggregate: everything the decision core knows about one tenant (SPEC §1).

Plain slotted dataclasses owned by the runtime that holds them. The core mutates the state it is handed and
returns the output events; it never reads a clock, a file or a socket, so the same log always gives the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from processor.core.catalog import DEFAULT_RULESET, Catalog

# Licence assignment states and error codes (SPEC §1.8, verbatim).
ACTIVE = "Active"
ACTIVE_WITH_ERROR = "ActiveWithError"
ERROR = "Error"
DISABLED = "Disabled"
APPLIED_STATES = frozenset({ACTIVE, ACTIVE_WITH_ERROR})
ERROR_STATES = frozenset({ERROR, ACTIVE_WITH_ERROR})

NO_ERROR = "None"
COUNT = "CountViolation"
EXCLUSIVE = "MutuallyExclusiveViolation"
DEPENDENCY = "DependencyViolation"
LOCATION = "ProhibitedInUsageLocationViolation"
UNIQUENESS = "UniquenessViolation"
OTHER = "Other"

QUEUED = "QueuedForProcessing"
IN_PROGRESS = "ProcessingInProgress"
COMPLETE = "ProcessingComplete"

EntryKey = tuple[str, str | None]  # (skuId, assignedByGroup); None = direct


@dataclass(slots=True)
class Settings:
    """The switchable (inferred or conflicting) rules of SPEC §0."""

    group_prereq_policy: str = "reject"
    dependency_on_group_removal: str = "keepWithError"
    proxy_conflict_mode: str = "recordError"
    allowed_group_kinds: tuple[str, ...] = ("security", "m365SecurityEnabled")
    release_seat_on_soft_delete: bool = False
    error_enum_spelling: str = "Other"

    def as_wire(self) -> dict[str, Any]:
        return {
            "groupPrereqPolicy": self.group_prereq_policy,
            "dependencyOnGroupRemoval": self.dependency_on_group_removal,
            "proxyConflictMode": self.proxy_conflict_mode,
            "allowedGroupKinds": list(self.allowed_group_kinds),
            "releaseSeatOnSoftDelete": self.release_seat_on_soft_delete,
            "errorEnumSpelling": self.error_enum_spelling,
        }


@dataclass(slots=True)
class Entry:
    """One licence assignment state of a user: (SKU, source) with state, error and disabled plans (SPEC §1.8)."""

    sku_id: str
    group_id: str | None
    disabled: int  # applied disabled-plan mask; for an Error entry, the intended one
    state: str
    error: str = NO_ERROR
    detail: dict[str, Any] | None = None
    last_updated: str = ""
    requested: int = 0  # direct entries: the disabled mask the admin asked for (new vendor plans await checks)
    first_error_at: str | None = None

    @property
    def applied(self) -> bool:
        return self.state in APPLIED_STATES


@dataclass(slots=True)
class User:
    user_id: str
    upn: str | None = None
    display_name: str | None = None
    usage_location: str | None = None
    proxy_addresses: tuple[str, ...] = ()
    account_enabled: bool = True
    soft_deleted: bool = False
    entries: dict[EntryKey, Entry] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)  # direct memberships: groupId -> membership seq
    suspended: int = 0  # plans once enabled and now withdrawn: `capabilityStatus = Suspended` (SPEC §2.8)
    version: int | None = None


@dataclass(slots=True)
class Group:
    group_id: str
    display_name: str | None = None
    kind: str = "security"
    security_enabled: bool = True
    deleted: bool = False
    licenses: dict[str, int] = field(default_factory=dict)  # skuId -> disabled mask, in assignment order
    members: dict[str, int] = field(default_factory=dict)  # user members in membership order -> seq
    nested: dict[str, int] = field(default_factory=dict)  # group members (never licensed, SPEC §1.6)
    sourced: set[str] = field(default_factory=set)  # users with an entry whose source is this group
    errors: set[str] = field(default_factory=set)  # users with an entry from this group in Error/ActiveWithError
    processing_state: str = COMPLETE
    license_version: int | None = None


@dataclass(slots=True)
class Subscription:
    enabled: int = 0
    warning: int = 0
    suspended: int = 0
    locked_out: int = 0
    version: int | None = None

    @property
    def capacity(self) -> int:
        """Assignable units: active plus grace-period units (SPEC §1.3)."""
        return self.enabled + self.warning

    @property
    def capability_status(self) -> str:
        if self.enabled:
            return "Enabled"
        if self.warning:
            return "Warning"
        if self.suspended:
            return "Suspended"
        if self.locked_out:
            return "LockedOut"
        return "Enabled"


@dataclass(slots=True)
class TenantState:
    tenant_id: str
    catalog: Catalog  # passed in by the runtime (processor.catalog_file), plus this tenant's plan additions
    country: str | None = None
    mode: str = "faithful"
    ruleset: str = DEFAULT_RULESET
    settings: Settings = field(default_factory=Settings)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    consumed: dict[str, int] = field(default_factory=dict)
    known_skus: dict[str, None] = field(default_factory=dict)  # SKUs subscribed, held or assigned (ordered set)
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    proxy_holders: dict[str, set[str]] = field(default_factory=dict)  # address (lower-case) -> user ids
    address_sharers: dict[str, int] = field(default_factory=dict)  # user id -> its addresses others hold too (>0)
    versions: dict[tuple[str, ...], int] = field(default_factory=dict)  # last applied `version` per key
    # SKU -> (user id, group id or None) of the users in CountViolation for it, oldest first (an ordered set)
    count_waiters: dict[str, dict[tuple[str, str | None], None]] = field(default_factory=dict)
    seq: int = 0  # events applied to this tenant: the logical clock of membership order

    @property
    def improved(self) -> bool:
        return self.mode == "improved"

    def available(self, sku_id: str) -> int:
        sub = self.subscriptions.get(sku_id)
        available = (sub.enabled + sub.warning if sub else 0) - self.consumed.get(sku_id, 0)  # capacity - consumed
        return available if available > 0 else 0

    def user(self, user_id: str) -> User:
        """The user, created implicitly with defaults if never seen (CONTRACT §2)."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = User(user_id)
        return user

    def group(self, group_id: str) -> Group:
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = Group(group_id)
        return group
