"""The snapshot format: a folder of Microsoft Graph v1.0 list responses, read and checked into typed records.

    organization.json      GET /organization                         (countryLetterCode)
    subscribedSkus.json    GET /subscribedSkus                       (prepaidUnits, consumedUnits, servicePlans)
    users.json             GET /users?$select=id,userPrincipalName,displayName,accountEnabled,usageLocation,
                                             proxyAddresses,assignedLicenses,licenseAssignmentStates
    groups.json            GET /groups?$select=id,displayName,groupTypes,securityEnabled,mailEnabled,
                                              assignedLicenses,licenseProcessingState
    members/{groupId}.json GET /groups/{groupId}/members?$select=id  (one file per group of groups.json)
    snapshot.json          optional: {"takenAt": RFC 3339 time}, written by `licensing snapshot`

Each file is `{"value": [...]}` with the value lists of all pages concatenated (a bare list is accepted too). A
snapshot that breaks the format raises SnapshotError with one line naming the file and the item.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

ORGANIZATION, SKUS, USERS, GROUPS, MEMBERS, MANIFEST = (
    "organization.json",
    "subscribedSkus.json",
    "users.json",
    "groups.json",
    "members",
    "snapshot.json",
)
USER_FIELDS = (
    "id",
    "userPrincipalName",
    "displayName",
    "accountEnabled",
    "usageLocation",
    "proxyAddresses",
    "assignedLicenses",
    "licenseAssignmentStates",
)
GROUP_FIELDS = (
    "id",
    "displayName",
    "groupTypes",
    "securityEnabled",
    "mailEnabled",
    "assignedLicenses",
    "licenseProcessingState",
)
STATES = ("Active", "ActiveWithError", "Disabled", "Error")
NO_ERROR = "None"
GRAPH_USER, GRAPH_GROUP = "#microsoft.graph.user", "#microsoft.graph.group"
UTF8_BOM = b"\xef\xbb\xbf"


class SnapshotError(ValueError):
    """A snapshot folder that does not follow the format; the message is one line."""


@dataclass(frozen=True, slots=True)
class ServicePlan:
    plan_id: str
    name: str


@dataclass(frozen=True, slots=True)
class SubscribedSku:
    sku_id: str
    part_number: str
    prepaid: dict[str, int]  # enabled, warning, suspended, lockedOut
    consumed: int
    plans: tuple[ServicePlan, ...]


@dataclass(frozen=True, slots=True)
class LicenseState:
    """One entry of a user's licenseAssignmentStates, as Entra reported it."""

    sku_id: str
    group_id: str | None  # assignedByGroup; None = direct
    state: str
    error: str  # "None" when Graph gave null or "None"
    disabled_plans: tuple[str, ...]  # sorted GUIDs
    last_updated: str | None

    @property
    def applied(self) -> bool:
        return self.state in ("Active", "ActiveWithError")


@dataclass(frozen=True, slots=True)
class GraphUser:
    user_id: str
    upn: str | None
    display_name: str | None
    account_enabled: bool
    usage_location: str | None
    proxy_addresses: tuple[str, ...]
    states: tuple[LicenseState, ...]


@dataclass(frozen=True, slots=True)
class GraphGroup:
    group_id: str
    display_name: str | None
    kind: str  # our GroupCreated kind, from groupTypes / securityEnabled / mailEnabled
    security_enabled: bool
    licenses: tuple[tuple[str, tuple[str, ...]], ...]  # (skuId, sorted disabledPlans) in assignment order
    processing_state: str | None  # licenseProcessingState.state


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    member_type: str  # "user" or "group"


@dataclass(frozen=True, slots=True)
class Snapshot:
    country: str | None
    skus: tuple[SubscribedSku, ...]
    users: tuple[GraphUser, ...]
    groups: tuple[GraphGroup, ...]
    members: dict[str, tuple[Member, ...]]  # groupId -> direct members (users and groups; devices etc. left out)
    taken_at: str | None  # snapshot.json's takenAt
    digest: str  # of every file's bytes: names the import's events

    @property
    def time(self) -> str | None:
        """When the snapshot was taken: snapshot.json's takenAt, else the newest lastUpdatedDateTime in it."""
        if self.taken_at:
            return self.taken_at
        times = [s.last_updated for u in self.users for s in u.states if s.last_updated]
        return max(times, key=instant) if times else None


def group_kind(group_types: list[str], security_enabled: bool, mail_enabled: bool) -> str:
    """Graph's three group properties as the kind that decides whether a group may carry licences."""
    if "Unified" in group_types:
        return "m365"
    if mail_enabled:
        return "mailEnabledSecurity" if security_enabled else "distribution"
    return "security"


def read_snapshot(folder: str | Path) -> Snapshot:
    root = Path(folder)
    if not root.is_dir():
        raise SnapshotError(f"{root} is not a snapshot folder")
    digest = hashlib.sha256()
    org = _list_file(root, ORGANIZATION, digest)
    skus = [_sku(item, f"{SKUS} item {n}") for n, item in enumerate(_list_file(root, SKUS, digest), 1)]
    users = [_user(item, f"{USERS} item {n}") for n, item in enumerate(_list_file(root, USERS, digest), 1)]
    groups = [_group(item, f"{GROUPS} item {n}") for n, item in enumerate(_list_file(root, GROUPS, digest), 1)]
    _unique(users, "user_id", USERS, "user")
    _unique(groups, "group_id", GROUPS, "group")
    user_ids = {u.user_id for u in users}
    group_ids = {g.group_id for g in groups}
    members = {
        g.group_id: _members(_list_file(root, f"{MEMBERS}/{g.group_id}.json", digest), user_ids, group_ids)
        for g in groups
    }
    return Snapshot(
        country=_country(org),
        skus=tuple(skus),
        users=tuple(users),
        groups=tuple(groups),
        members=members,
        taken_at=_manifest_time(root, digest),
        digest=digest.hexdigest(),
    )


# ---- files ----------------------------------------------------------------------------------------------------


def _load(root: Path, name: str, digest: Any) -> Any:
    path = root / name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(f"{name} is missing from the snapshot {root}") from None
    except OSError as exc:
        raise SnapshotError(f"{name}: cannot read it ({exc.strerror})") from None
    digest.update(name.encode() + b"\0" + raw + b"\0")
    try:
        return orjson.loads(raw.removeprefix(UTF8_BOM))  # PowerShell's Set-Content -Encoding utf8 writes one
    except orjson.JSONDecodeError as exc:
        if "utf-8" in exc.msg.lower():
            raise SnapshotError(f"{name}: not UTF-8 text") from None
        raise SnapshotError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def _list_file(root: Path, name: str, digest: Any) -> list[dict[str, Any]]:
    document = _load(root, name, digest)
    items = document.get("value") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SnapshotError(f'{name}: not a Graph list response {{"value": [...]}}')
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise SnapshotError(f"{name} item {n}: not a JSON object")
    return items


def _manifest_time(root: Path, digest: Any) -> str | None:
    if not (root / MANIFEST).exists():
        return None
    manifest = _load(root, MANIFEST, digest)
    taken = manifest.get("takenAt") if isinstance(manifest, dict) else None
    if taken is None:
        return None
    if not isinstance(taken, str) or not is_time(taken):
        raise SnapshotError(f"{MANIFEST}: takenAt is not an RFC 3339 time with an offset: {taken!r}")
    return taken


# ---- items ----------------------------------------------------------------------------------------------------


def _country(org: list[dict[str, Any]]) -> str | None:
    if not org:
        raise SnapshotError(f"{ORGANIZATION}: no organization in it")
    country = org[0].get("countryLetterCode")
    if country is None or country == "":
        return None
    if not isinstance(country, str) or len(country) != 2 or not country.isalpha():
        raise SnapshotError(f"{ORGANIZATION}: countryLetterCode is not a two-letter code: {country!r}")
    return country.upper()


def _sku(item: dict[str, Any], where: str) -> SubscribedSku:
    sku_id = _guid(item, "skuId", where)
    where = f"{where} (skuId {sku_id})"
    units = item.get("prepaidUnits") or {}
    if not isinstance(units, dict):
        raise SnapshotError(f"{where}: prepaidUnits is not an object")
    prepaid = {key: _count(units, key, where) for key in ("enabled", "warning", "suspended", "lockedOut")}
    plans = []
    for n, plan in enumerate(_list(item, "servicePlans", where), 1):
        if not isinstance(plan, dict):
            raise SnapshotError(f"{where}: servicePlans item {n} is not an object")
        plans.append(ServicePlan(_guid(plan, "servicePlanId", where), _text(plan, "servicePlanName", where) or ""))
    return SubscribedSku(
        sku_id=sku_id,
        part_number=_text(item, "skuPartNumber", where) or "",
        prepaid=prepaid,
        consumed=_count(item, "consumedUnits", where),
        plans=tuple(plans),
    )


def _user(item: dict[str, Any], where: str) -> GraphUser:
    user_id = _required_text(item, "id", where)
    where = f"{USERS}: user {user_id}"
    if "licenseAssignmentStates" not in item:
        raise SnapshotError(
            f"{where} has no licenseAssignmentStates: export users with $select={','.join(USER_FIELDS)}"
        )
    states = []
    for n, raw in enumerate(_list(item, "licenseAssignmentStates", where), 1):
        if not isinstance(raw, dict):
            raise SnapshotError(f"{where}: licenseAssignmentStates item {n} is not an object")
        states.append(_state(raw, f"{where}, licenseAssignmentStates item {n}"))
    location = _text(item, "usageLocation", where) or None
    enabled = item.get("accountEnabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise SnapshotError(f"{where}: accountEnabled is not true or false")
    addresses = _list(item, "proxyAddresses", where)
    if not all(isinstance(address, str) for address in addresses):
        raise SnapshotError(f"{where}: proxyAddresses holds something other than text")
    return GraphUser(
        user_id=user_id,
        upn=_text(item, "userPrincipalName", where),
        display_name=_text(item, "displayName", where),
        account_enabled=enabled is not False,
        usage_location=location.upper() if location else None,
        proxy_addresses=tuple(addresses),
        states=tuple(states),
    )


def _state(raw: dict[str, Any], where: str) -> LicenseState:
    state = _required_text(raw, "state", where)
    if state not in STATES:
        raise SnapshotError(f"{where}: state {state!r} is not one of {', '.join(STATES)}")
    last = _text(raw, "lastUpdatedDateTime", where)
    if last is not None and not is_time(last):
        raise SnapshotError(f"{where}: lastUpdatedDateTime is not an RFC 3339 time: {last!r}")
    group = _text(raw, "assignedByGroup", where)
    return LicenseState(
        sku_id=_guid(raw, "skuId", where),
        group_id=group or None,
        state=state,
        error=_text(raw, "error", where) or NO_ERROR,
        disabled_plans=_plan_list(raw, where),
        last_updated=last,
    )


def _group(item: dict[str, Any], where: str) -> GraphGroup:
    group_id = _required_text(item, "id", where)
    where = f"{GROUPS}: group {group_id}"
    types = _list(item, "groupTypes", where)
    security = item.get("securityEnabled")
    mail = item.get("mailEnabled")
    for key, value in (("securityEnabled", security), ("mailEnabled", mail)):
        if value is not None and not isinstance(value, bool):
            raise SnapshotError(f"{where}: {key} is not true or false")
    licenses = []
    for n, raw in enumerate(_list(item, "assignedLicenses", where), 1):
        if not isinstance(raw, dict):
            raise SnapshotError(f"{where}: assignedLicenses item {n} is not an object")
        licenses.append((_guid(raw, "skuId", where), _plan_list(raw, where)))
    processing = item.get("licenseProcessingState")
    if processing is not None and not isinstance(processing, dict):
        raise SnapshotError(f"{where}: licenseProcessingState is not an object")
    return GraphGroup(
        group_id=group_id,
        display_name=_text(item, "displayName", where),
        kind=group_kind(types, security is True, mail is True),
        security_enabled=security is True,
        licenses=tuple(licenses),
        processing_state=_text(processing, "state", where) if processing else None,
    )


def _members(items: list[dict[str, Any]], user_ids: set[str], group_ids: set[str]) -> tuple[Member, ...]:
    """Users and groups of the snapshot, by their @odata.type or else by which list holds their id (a member that
    is neither, a device or a contact, never carries licences)."""
    members = []
    for item in items:
        member_id, kind = item.get("id"), item.get("@odata.type")
        if not isinstance(member_id, str):
            continue
        if kind == GRAPH_USER or (kind is None and member_id in user_ids):
            members.append(Member(member_id, "user"))
        elif kind == GRAPH_GROUP or (kind is None and member_id in group_ids):
            members.append(Member(member_id, "group"))
    return tuple(members)


def _unique(items: list[Any], attribute: str, name: str, what: str) -> None:
    seen: set[str] = set()
    for item in items:
        key = getattr(item, attribute)
        if key in seen:
            raise SnapshotError(f"{name}: {what} {key} appears twice")
        seen.add(key)


# ---- fields ---------------------------------------------------------------------------------------------------


def _text(item: dict[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise SnapshotError(f"{where}: {key} is not text")
    return value


def _required_text(item: dict[str, Any], key: str, where: str) -> str:
    value = _text(item, key, where)
    if not value:
        raise SnapshotError(f"{where}: no {key}")
    return value


def _guid(item: dict[str, Any], key: str, where: str) -> str:
    return _required_text(item, key, where).lower()


def _list(item: dict[str, Any], key: str, where: str) -> list[Any]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SnapshotError(f"{where}: {key} is not a list")
    return value


def _plan_list(item: dict[str, Any], where: str) -> tuple[str, ...]:
    plans = _list(item, "disabledPlans", where)
    if not all(isinstance(plan, str) for plan in plans):
        raise SnapshotError(f"{where}: disabledPlans holds something other than plan GUIDs")
    return tuple(sorted(plan.lower() for plan in plans))


def _count(item: dict[str, Any], key: str, where: str) -> int:
    value = item.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SnapshotError(f"{where}: {key} is not a count")
    return value


def is_time(value: str) -> bool:
    """Whether the text is an RFC 3339 time with an offset."""
    try:
        return instant(value).tzinfo is not None
    except ValueError:
        return False


def instant(value: str) -> datetime:
    """An RFC 3339 time as a moment: times with other offsets or fractions compare correctly."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
