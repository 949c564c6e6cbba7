"""Read models: one small class per model, each turning output events into full-row upserts or deletes.

A model never reads the decision core's state: everything it stores comes from output events, so every read model
can be thrown away and rebuilt from the decisions log (ARCHITECTURE: the log is the truth).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

Row = dict[str, Any]
Change = tuple[str, tuple[Any, ...], Row | None]  # (table, primary key values, full row or None = delete)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class ReadModel:
    name: str
    tables: dict[str, tuple[dict[str, type], tuple[str, ...]]]  # table -> (columns, primary key)
    handles: frozenset[str]

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
        row = {
            "tenant": tenant,
            "country_letter_code": d["countryLetterCode"],
            "mode": d["mode"],
            "ruleset": d["ruleset"],
            "settings": _json(d["settings"]),
        }
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

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d, tenant, kind = event["data"], event["tenant"], event["type"]
        if kind == "UserProfileChanged":
            key = (tenant, d["userId"])
            if d["lifecycle"] == "hardDeleted":
                yield "users", key, None
                yield "user_licenses", key, None
                return
            yield (
                "users",
                key,
                {
                    "tenant": tenant,
                    "user_id": d["userId"],
                    "user_principal_name": d["userPrincipalName"],
                    "display_name": d["displayName"],
                    "usage_location": d["usageLocation"],
                    "proxy_addresses": _json(d["proxyAddresses"]),
                    "account_enabled": int(d["accountEnabled"]),
                    "lifecycle": d["lifecycle"],
                },
            )
        elif kind == "AssignedLicensesChanged":
            yield (
                "user_licenses",
                (tenant, d["userId"]),
                {
                    "tenant": tenant,
                    "user_id": d["userId"],
                    "assigned_licenses": _json(d["assignedLicenses"]),
                    "suspended_plans": _json(d["suspendedPlans"]),
                },
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
                {
                    "tenant": tenant,
                    "user_id": d["userId"],
                    "sku_id": d["skuId"],
                    "source": source,
                    "sku_part_number": d["skuPartNumber"],
                    "assigned_by_group": d["assignedByGroup"],
                    "state": d["state"],
                    "error": d["error"],
                    "disabled_plans": _json(d["disabledPlans"]),
                    "error_detail": _json(d["errorDetail"]) if d["errorDetail"] is not None else None,
                    "last_updated": d["lastUpdatedDateTime"],
                },
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
        "group_member_errors": (
            {
                "tenant": str,
                "group_id": str,
                "user_id": str,
                "sku_id": str,
                "sku_part_number": str,
                "state": str,
                "error": str,
                "reason": str,
                "message": str,
                "suggested_fix": str,
                "since": str,
            },
            ("tenant", "group_id", "user_id", "sku_id"),
        ),
    }
    handles = frozenset({"GroupConfigurationChanged", "GroupLicenseProcessingChanged", "LicenseAssignmentStateChanged"})

    def changes(self, event: dict[str, Any], position: int) -> Iterator[Change]:
        d, tenant, kind = event["data"], event["tenant"], event["type"]
        if kind == "GroupConfigurationChanged":
            yield (
                "groups",
                (tenant, d["groupId"]),
                {
                    "tenant": tenant,
                    "group_id": d["groupId"],
                    "display_name": d["displayName"],
                    "kind": d["kind"],
                    "security_enabled": int(d["securityEnabled"]),
                    "deleted": int(d["deleted"]),
                    "assigned_licenses": _json(d["assignedLicenses"]),
                },
            )
        elif kind == "GroupLicenseProcessingChanged":
            yield (
                "group_processing",
                (tenant, d["groupId"]),
                {
                    "tenant": tenant,
                    "group_id": d["groupId"],
                    "state": d["state"],
                    "succeeded": d["succeeded"],
                    "failed": d["failed"],
                },
            )
        elif d["assignedByGroup"] is not None:
            key = (tenant, d["assignedByGroup"], d["userId"], d["skuId"])
            if d["state"] not in ("Error", "ActiveWithError"):
                yield "group_member_errors", key, None
                return
            detail = d["errorDetail"] or {}
            yield (
                "group_member_errors",
                key,
                {
                    "tenant": tenant,
                    "group_id": d["assignedByGroup"],
                    "user_id": d["userId"],
                    "sku_id": d["skuId"],
                    "sku_part_number": d["skuPartNumber"],
                    "state": d["state"],
                    "error": d["error"],
                    "reason": detail.get("reason"),
                    "message": detail.get("message"),
                    "suggested_fix": detail.get("suggestedFix"),
                    "since": d["lastUpdatedDateTime"],
                },
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
            {
                "tenant": tenant,
                "sku_id": d["skuId"],
                "sku_part_number": d["skuPartNumber"],
                "capability_status": d["capabilityStatus"],
                "enabled": units["enabled"],
                "warning": units["warning"],
                "suspended": units["suspended"],
                "locked_out": units["lockedOut"],
                "consumed": d["consumedUnits"],
                "available": d["availableUnits"],
                "over_assigned": int(d["overAssigned"]),
            },
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
            {
                "decision_id": event["id"],
                "tenant": event["tenant"],
                "position": position,
                "event_id": d["eventId"],
                "type": d["type"],
                "error": d["error"],
                "message": d["message"],
                "target": d.get("userId") or d.get("groupId"),
                "time": event["time"],
                "detail": _json(d["detail"]) if d.get("detail") is not None else None,
            },
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
            {
                "decision_id": event["id"],
                "tenant": event["tenant"],
                "position": position,
                "time": event["time"],
                "activity": d["activity"],
                "actor": d["actor"],
                "target": d["targetId"],
                "result": d["result"],
            },
        )


READ_MODELS: tuple[ReadModel, ...] = (
    TenantSettings(),
    UserLicenseStates(),
    GroupsWithErrors(),
    ProductUsage(),
    RejectedCommands(),
    AuditLog(),
)
