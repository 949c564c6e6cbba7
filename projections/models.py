"""Read models: one small class per model, each turning output events into full-row upserts or deletes.

A model never reads the decision core's state: everything it stores comes from output events, so every read model
can be thrown away and rebuilt from the decisions log (ARCHITECTURE: the log is the truth). A row is a tuple in the
order of its table's declared columns, ready for executemany (a group pass writes 300,000 of them).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

ERROR_STATES = frozenset({"Error", "ActiveWithError"})
_IN_ERROR = f"state IN ({', '.join(repr(state) for state in sorted(ERROR_STATES))})"  # the SQL test
Row = tuple[Any, ...]  # every column, in the table's declared order
Change = tuple[str, tuple[Any, ...], Row | None]  # (table, primary key values, full row or None = delete)
Output = tuple[str, dict[str, Any]]  # an output event without its envelope: (type, data)
DETAIL_CACHE = 4096  # error details whose JSON is kept (a tenant has few distinct ones but for proxy conflicts)


def _json(value: Any) -> str:
    if value == []:
        return "[]"  # most disabled-plan lists: a third of the values a 1,000,000-event ingest serialises
    return orjson.dumps(value).decode()


class ReadModel:
    name: str
    tables: dict[str, tuple[dict[str, type], tuple[str, ...]]]  # table -> (columns, primary key)
    handles: frozenset[str]
    views: dict[str, str] = {}  # view -> its SELECT, over this or other models' tables
    immutable: frozenset[str] = frozenset()  # tables whose rows, once written, never change (inserted if missing)
    without_rowid: frozenset[str] = frozenset()  # tables stored as their primary key's B-tree alone

    by_decision = False  # rows keyed by the output event's id (`decision_id`): only then is it worked out

    def rows(
        self, kind: str, d: dict[str, Any], tenant: str, time: str, decision_id: str, position: int
    ) -> list[Change]:
        """The row changes of output event `kind` with data `d` (of `tenant`, at `time`), found at `position`."""
        raise NotImplementedError

    def changes(self, event: dict[str, Any], position: int) -> list[Change]:
        """`rows` of an output event in its envelope."""
        return self.rows(event["type"], event["data"], event["tenant"], event["time"], event["id"], position)


class TenantSettings(ReadModel):
    name = "tenants"
    tables = {
        "tenants": (
            {"tenant": str, "country_letter_code": str, "mode": str, "ruleset": str, "settings": str},
            ("tenant",),
        )
    }
    handles = frozenset({"TenantSettingsChanged"})

    def rows(
        self, kind: str, d: dict[str, Any], tenant: str, time: str, decision_id: str, position: int
    ) -> list[Change]:
        row = (tenant, d["countryLetterCode"], d["mode"], d["ruleset"], _json(d["settings"]))
        return [("tenants", (tenant,), row)]


class UserLicenseStates(ReadModel):
    """Each user's profile, effective licences and licence assignment states (per SKU and source)."""

    name = "user_license_states"
    tables = {
        "users": (
            {
                "tenant": str,
                "user_id": str,
                "user_principal_name": str,
                "display_name": str,
                "usage_location": str,
                "proxy_addresses": str,
                "account_enabled": int,
                "lifecycle": str,
            },
            ("tenant", "user_id"),
        ),
        "user_licenses": (
            {"tenant": str, "user_id": str, "assigned_licenses": str, "suspended_plans": str},
            ("tenant", "user_id"),
        ),
        # The licence assignment states; `license_assignments` (a view) gives them with their error details.
        "license_assignment_rows": (
            {
                "tenant": str,
                "user_id": str,
                "sku_id": str,
                "source": str,  # group id, or "" for a direct assignment
                "sku_part_number": str,
                "assigned_by_group": str,
                "state": str,
                "error": str,
                "disabled_plans": str,
                "error_detail_id": int,  # error_details.detail_id, or null: none
                "last_updated": str,
            },
            ("tenant", "user_id", "sku_id", "source"),
        ),
        # Error details stored once: a tenant has few distinct ones (many thousand entries share "not enough
        # licences"), and as JSON on every row they were three fifths of the assignment rows' bytes, which every
        # batch's scattered upserts rewrite. Keyed by their content, so a row is the same in every database and for
        # every runtime, and is never updated; one no row points at any more stays (the next replay drops it).
        "error_details": ({"detail_id": int, "detail": str}, ("detail_id",)),
    }
    immutable = frozenset({"error_details"})
    # An assignment row is small now that its detail is elsewhere: stored in its key's B-tree, an upsert updates one
    # B-tree instead of a table and its key's index (a one-CPU ingest of 1,000,000 events: 0.6-1.0 s faster in
    # each of five alternating pairs of runs). Not for the other tables: `users` measured slower.
    without_rowid = frozenset({"license_assignment_rows"})
    views = {
        "license_assignments": """
            SELECT a.tenant, a.user_id, a.sku_id, a.source, a.sku_part_number, a.assigned_by_group, a.state, a.error,
                a.disabled_plans, d.detail AS error_detail, a.last_updated
            FROM license_assignment_rows a LEFT JOIN error_details d ON d.detail_id = a.error_detail_id"""
    }
    handles = frozenset({"UserProfileChanged", "AssignedLicensesChanged", "LicenseAssignmentStateChanged"})

    def __init__(self) -> None:
        # Error details' rows, by the identity of the detail dict: the core shares one dict among every entry with
        # the same problem (processor.core.messages) and never mutates it, so a batch serialises each one once (they
        # were a third of the read-model JSON work). Holding the dict keeps its id from being reused while cached.
        self._details: dict[int, tuple[dict[str, Any], Change]] = {}

    def _error_detail(self, detail: dict[str, Any]) -> Change:
        """The error_details row of the detail (its key holds the detail_id)."""
        cached = self._details.get(id(detail))
        if cached is not None:
            return cached[1]
        if len(self._details) >= DETAIL_CACHE:
            self._details.clear()
        text = _json(detail)
        detail_id = detail_key(text)
        change: Change = ("error_details", (detail_id,), (detail_id, text))
        self._details[id(detail)] = (detail, change)
        return change

    def rows(
        self, kind: str, d: dict[str, Any], tenant: str, time: str, decision_id: str, position: int
    ) -> list[Change]:
        if kind == "UserProfileChanged":
            key: tuple[Any, ...] = (tenant, d["userId"])
            if d["lifecycle"] == "hardDeleted":
                return [("users", key, None), ("user_licenses", key, None)]
            return [
                (
                    "users",
                    key,
                    (
                        tenant,  # tenant
                        d["userId"],  # user_id
                        d["userPrincipalName"],  # user_principal_name
                        d["displayName"],  # display_name
                        d["usageLocation"],  # usage_location
                        _json(d["proxyAddresses"]),  # proxy_addresses
                        int(d["accountEnabled"]),  # account_enabled
                        d["lifecycle"],  # lifecycle
                    ),
                )
            ]
        elif kind == "AssignedLicensesChanged":
            return [
                (
                    "user_licenses",
                    (tenant, d["userId"]),
                    (
                        tenant,  # tenant
                        d["userId"],  # user_id
                        _json(d["assignedLicenses"]),  # assigned_licenses
                        _json(d["suspendedPlans"]),  # suspended_plans
                    ),
                )
            ]
        else:
            source = d["assignedByGroup"] or ""
            key = (tenant, d["userId"], d["skuId"], source)
            if d["state"] is None:
                return [("license_assignment_rows", key, None)]
            detail = d["errorDetail"]
            detail_row = None if detail is None else self._error_detail(detail)
            row = (
                tenant,  # tenant
                d["userId"],  # user_id
                d["skuId"],  # sku_id
                source,  # source
                d["skuPartNumber"],  # sku_part_number
                d["assignedByGroup"],  # assigned_by_group
                d["state"],  # state
                d["error"],  # error
                _json(d["disabledPlans"]),  # disabled_plans
                None if detail_row is None else detail_row[1][0],  # error_detail_id
                d["lastUpdatedDateTime"],  # last_updated
            )
            if detail_row is None:
                return [("license_assignment_rows", key, row)]
            return [detail_row, ("license_assignment_rows", key, row)]


def detail_key(text: str) -> int:
    """The id of an error detail: 64 bits of its BLAKE2b digest, as SQLite's signed integer (content-addressed, so
    the same in every database; a collision among even a million distinct details is a 1-in-30-million chance)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


class GroupsWithErrors(ReadModel):
    """Groups, their processing state, and the members (former members included) in error from each group."""

    name = "groups_with_errors"
    tables = {
        "groups": (
            {
                "tenant": str,
                "group_id": str,
                "display_name": str,
                "kind": str,
                "security_enabled": int,
                "deleted": int,
                "assigned_licenses": str,
            },
            ("tenant", "group_id"),
        ),
        "group_processing": (
            {"tenant": str, "group_id": str, "state": str, "succeeded": int, "failed": int},
            ("tenant", "group_id"),
        ),
    }
    # The members in error are the group-sourced licence assignments in an error state: a view over the assignment
    # rows, kept in step by construction and written once (a table of their own cost a fifth of the read-model row
    # writes of an ingest). It reads the partial index of the entries not Active (an index of its own cost every
    # assignment row 0.6 us more), named because SQLite's planner, without statistics, would rather scan all of a
    # tenant's rows in their primary key's B-tree.
    views = {
        "group_member_errors": f"""
            SELECT a.tenant, a.source AS group_id, a.user_id, a.sku_id, a.sku_part_number, a.state, a.error,
                json_extract(d.detail, '$.reason') AS reason,
                json_extract(d.detail, '$.message') AS message,
                json_extract(d.detail, '$.suggestedFix') AS suggested_fix,
                a.last_updated AS since
            FROM license_assignment_rows AS a INDEXED BY license_assignments_not_active
                LEFT JOIN error_details AS d ON d.detail_id = a.error_detail_id
            WHERE a.state != 'Active' AND a.{_IN_ERROR} AND a.source != ''"""
    }
    handles = frozenset({"GroupConfigurationChanged", "GroupLicenseProcessingChanged"})

    def rows(
        self, kind: str, d: dict[str, Any], tenant: str, time: str, decision_id: str, position: int
    ) -> list[Change]:
        if kind == "GroupConfigurationChanged":
            return [
                (
                    "groups",
                    (tenant, d["groupId"]),
                    (
                        tenant,  # tenant
                        d["groupId"],  # group_id
                        d["displayName"],  # display_name
                        d["kind"],  # kind
                        int(d["securityEnabled"]),  # security_enabled
                        int(d["deleted"]),  # deleted
                        _json(d["assignedLicenses"]),  # assigned_licenses
                    ),
                )
            ]
        else:  # GroupLicenseProcessingChanged
            return [
                (
                    "group_processing",
                    (tenant, d["groupId"]),
                    (
                        tenant,  # tenant
                        d["groupId"],  # group_id
                        d["state"],  # state
                        d["succeeded"],  # succeeded
                        d["failed"],  # failed
                    ),
                )
            ]


class ProductUsage(ReadModel):
    name = "product_usage"
    tables = {
        "product_usage": (
            {
                "tenant": str,
                "sku_id": str,
                "sku_part_number": str,
                "capability_status": str,
                "enabled": int,
                "warning": int,
                "suspended": int,
                "locked_out": int,
                "consumed": int,
                "available": int,
                "over_assigned": int,
            },
            ("tenant", "sku_id"),
        )
    }
    handles = frozenset({"ProductUsageChanged"})

    def rows(
        self, kind: str, d: dict[str, Any], tenant: str, time: str, decision_id: str, position: int
    ) -> list[Change]:
        units = d["prepaidUnits"]
        return [
            (
                "product_usage",
                (tenant, d["skuId"]),
                (
                    tenant,  # tenant
                    d["skuId"],  # sku_id
                    d["skuPartNumber"],  # sku_part_number
                    d["capabilityStatus"],  # capability_status
                    units["enabled"],  # enabled
                    units["warning"],  # warning
                    units["suspended"],  # suspended
                    units["lockedOut"],  # locked_out
                    d["consumedUnits"],  # consumed
                    d["availableUnits"],  # available
                    int(d["overAssigned"]),  # over_assigned
                ),
            )
        ]


class RejectedCommands(ReadModel):
    """Commands refused synchronously, in log order; keyed by decision id so a redelivery changes nothing."""

    name = "rejected_commands"
    by_decision = True
    tables = {
        "rejected_commands": (
            {
                "decision_id": str,
                "tenant": str,
                "position": int,
                "event_id": str,
                "type": str,
                "error": str,
                "message": str,
                "target": str,
                "time": str,
                "detail": str,
            },
            ("tenant", "decision_id"),  # output ids repeat across tenants that reuse input ids
        )
    }
    handles = frozenset({"CommandRejected"})

    def rows(
        self, kind: str, d: dict[str, Any], tenant: str, time: str, decision_id: str, position: int
    ) -> list[Change]:
        return [
            (
                "rejected_commands",
                (tenant, decision_id),
                (
                    decision_id,  # decision_id
                    tenant,  # tenant
                    position,  # position
                    d["eventId"],  # event_id
                    d["type"],  # type
                    d["error"],  # error
                    d["message"],  # message
                    d.get("userId") or d.get("groupId"),  # target
                    time,  # time
                    _json(d["detail"]) if d.get("detail") is not None else None,  # detail
                ),
            )
        ]


class AuditLog(ReadModel):
    """The product's audit activities (Set group license, Start/Finish applying …) as an append-only stream."""

    name = "audit_log"
    by_decision = True
    tables = {
        "audit_log": (
            {
                "decision_id": str,
                "tenant": str,
                "position": int,
                "time": str,
                "activity": str,
                "actor": str,
                "target": str,
                "result": str,
            },
            ("tenant", "decision_id"),  # output ids repeat across tenants that reuse input ids
        )
    }
    handles = frozenset({"AuditRecorded"})

    def rows(
        self, kind: str, d: dict[str, Any], tenant: str, time: str, decision_id: str, position: int
    ) -> list[Change]:
        return [
            (
                "audit_log",
                (tenant, decision_id),
                (
                    decision_id,  # decision_id
                    tenant,  # tenant
                    position,  # position
                    time,  # time
                    d["activity"],  # activity
                    d["actor"],  # actor
                    d["targetId"],  # target
                    d["result"],  # result
                ),
            )
        ]


READ_MODELS: tuple[ReadModel, ...] = (
    TenantSettings(),
    UserLicenseStates(),
    GroupsWithErrors(),
    ProductUsage(),
    RejectedCommands(),
    AuditLog(),
)
