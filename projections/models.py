"""Read models: one small class per model, each turning output events into full-row upserts or deletes.

A model never reads the decision core's state: everything it stores comes from output events, so every read model
can be thrown away and rebuilt from the decisions log (ARCHITECTURE: the log is the truth). A row is a tuple in the
order of its table's declared columns, ready for executemany (a group pass writes 300,000 of them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

ERROR_STATES = frozenset({"Error", "ActiveWithError"})
_IN_ERROR = f"state IN ({', '.join(repr(state) for state in sorted(ERROR_STATES))})"  # the SQL test
Row = tuple[Any, ...]  # every column, in the table's declared order
Change = tuple[str, tuple[Any, ...], Row | None]  # (table, primary key values, full row or None = delete)
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

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        raise NotImplementedError


class TenantSettings(ReadModel):
    name = "tenants"
    tables = {
        "tenants": (
            {"tenant": str, "country_letter_code": str, "mode": str, "ruleset": str, "settings": str},
            ("tenant",),
        )
    }
    handles = frozenset({"TenantSettingsChanged"})

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d, tenant = event["data"], event["tenant"]
        row = (tenant, d["countryLetterCode"], d["mode"], d["ruleset"], _json(d["settings"]))
        yield "tenants", (tenant,), row


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
        "license_assignments": (
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
                "error_detail": str,
                "last_updated": str,
            },
            ("tenant", "user_id", "sku_id", "source"),
        ),
    }
    handles = frozenset({"UserProfileChanged", "AssignedLicensesChanged", "LicenseAssignmentStateChanged"})

    def __init__(self) -> None:
        # Error details as JSON, by the identity of the detail dict: the core shares one dict among every entry with
        # the same problem (processor.messages) and never mutates it, so a batch serialises each one once (they were
        # a third of the read-model JSON work). Holding the dict keeps its id from being reused while cached.
        self._detail_json: dict[int, tuple[dict[str, Any], str]] = {}

    def _error_detail(self, detail: dict[str, Any] | None) -> str | None:
        if detail is None:
            return None
        cached = self._detail_json.get(id(detail))
        if cached is not None:
            return cached[1]
        if len(self._detail_json) >= DETAIL_CACHE:
            self._detail_json.clear()
        text = _json(detail)
        self._detail_json[id(detail)] = (detail, text)
        return text

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d, tenant, kind = event["data"], event["tenant"], event["type"]
        if kind == "UserProfileChanged":
            key: tuple[Any, ...] = (tenant, d["userId"])
            if d["lifecycle"] == "hardDeleted":
                yield "users", key, None
                yield "user_licenses", key, None
                return
            yield (
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
        elif kind == "AssignedLicensesChanged":
            yield (
                "user_licenses",
                (tenant, d["userId"]),
                (
                    tenant,  # tenant
                    d["userId"],  # user_id
                    _json(d["assignedLicenses"]),  # assigned_licenses
                    _json(d["suspendedPlans"]),  # suspended_plans
                ),
            )
        else:
            source = d["assignedByGroup"] or ""
            key = (tenant, d["userId"], d["skuId"], source)
            if d["state"] is None:
                yield "license_assignments", key, None
                return
            yield (
                "license_assignments",
                key,
                (
                    tenant,  # tenant
                    d["userId"],  # user_id
                    d["skuId"],  # sku_id
                    source,  # source
                    d["skuPartNumber"],  # sku_part_number
                    d["assignedByGroup"],  # assigned_by_group
                    d["state"],  # state
                    d["error"],  # error
                    _json(d["disabledPlans"]),  # disabled_plans
                    self._error_detail(d["errorDetail"]),  # error_detail
                    d["lastUpdatedDateTime"],  # last_updated
                ),
            )


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
    # The members in error are the group-sourced licence assignments in an error state: a view over
    # license_assignments, kept in step by construction and written once (a table of their own cost a fifth of the
    # read-model row writes of an ingest). `state != 'Active'` lets SQLite use the partial index of entries not
    # Active (license_assignments_not_active); an index of its own cost every licence assignment row 0.6 us more.
    views = {
        "group_member_errors": f"""
            SELECT tenant, source AS group_id, user_id, sku_id, sku_part_number, state, error,
                json_extract(error_detail, '$.reason') AS reason,
                json_extract(error_detail, '$.message') AS message,
                json_extract(error_detail, '$.suggestedFix') AS suggested_fix,
                last_updated AS since
            FROM license_assignments WHERE state != 'Active' AND {_IN_ERROR} AND source != ''"""
    }
    handles = frozenset({"GroupConfigurationChanged", "GroupLicenseProcessingChanged"})

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d, tenant, kind = event["data"], event["tenant"], event["type"]
        if kind == "GroupConfigurationChanged":
            yield (
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
        elif kind == "GroupLicenseProcessingChanged":
            yield (
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

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d, tenant = event["data"], event["tenant"]
        units = d["prepaidUnits"]
        yield (
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


class RejectedCommands(ReadModel):
    """Commands refused synchronously, in log order; keyed by decision id so a redelivery changes nothing."""

    name = "rejected_commands"
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

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d = event["data"]
        yield (
            "rejected_commands",
            (event["tenant"], event["id"]),
            (
                event["id"],  # decision_id
                event["tenant"],  # tenant
                position,  # position
                d["eventId"],  # event_id
                d["type"],  # type
                d["error"],  # error
                d["message"],  # message
                d.get("userId") or d.get("groupId"),  # target
                event["time"],  # time
                _json(d["detail"]) if d.get("detail") is not None else None,  # detail
            ),
        )


class AuditLog(ReadModel):
    """The product's audit activities (Set group license, Start/Finish applying …) as an append-only stream."""

    name = "audit_log"
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

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d = event["data"]
        yield (
            "audit_log",
            (event["tenant"], event["id"]),
            (
                event["id"],  # decision_id
                event["tenant"],  # tenant
                position,  # position
                event["time"],  # time
                d["activity"],  # activity
                d["actor"],  # actor
                d["targetId"],  # target
                d["result"],  # result
            ),
        )


READ_MODELS: tuple[ReadModel, ...] = (
    TenantSettings(),
    UserLicenseStates(),
    GroupsWithErrors(),
    ProductUsage(),
    RejectedCommands(),
    AuditLog(),
)
