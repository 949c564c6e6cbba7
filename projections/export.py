"""The tenant state document of CONTRACT §6, read from the projections; lists sorted so documents diff as text."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

ERROR_STATES = ("Error", "ActiveWithError")


class UnknownTenant(LookupError):
    pass


def tenant_document(conn: sqlite3.Connection, tenant: str) -> dict[str, Any]:
    conn.row_factory = sqlite3.Row
    try:
        return _document(conn, tenant)
    finally:
        conn.row_factory = None


def _document(conn: sqlite3.Connection, tenant: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM tenants WHERE tenant = ?", (tenant,)).fetchone()
    if row is None:
        raise UnknownTenant(f"unknown tenant {tenant!r}")
    document: dict[str, Any] = {
        "tenant": {
            "id": tenant,
            "countryLetterCode": row["country_letter_code"],
            "mode": row["mode"],
            "ruleset": row["ruleset"],
        }
    }
    document["subscribedSkus"] = [
        {
            "skuId": r["sku_id"],
            "skuPartNumber": r["sku_part_number"],
            "capabilityStatus": r["capability_status"],
            "prepaidUnits": {
                "enabled": r["enabled"],
                "warning": r["warning"],
                "suspended": r["suspended"],
                "lockedOut": r["locked_out"],
            },
            "consumedUnits": r["consumed"],
            "availableUnits": r["available"],
        }
        for r in conn.execute(
            "SELECT * FROM product_usage WHERE tenant = ? ORDER BY sku_part_number, sku_id", (tenant,)
        )
    ]

    states: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
        "SELECT * FROM license_assignments WHERE tenant = ? ORDER BY user_id, sku_part_number, source != '', source",
        (tenant,),
    ):
        states.setdefault(r["user_id"], []).append(
            {
                "skuId": r["sku_id"],
                "skuPartNumber": r["sku_part_number"],
                "assignedByGroup": r["assigned_by_group"],
                "state": r["state"],
                "error": r["error"],
                "disabledPlans": json.loads(r["disabled_plans"]),
                "lastUpdatedDateTime": r["last_updated"],
            }
        )
    licenses = {
        r["user_id"]: json.loads(r["assigned_licenses"])
        for r in conn.execute("SELECT user_id, assigned_licenses FROM user_licenses WHERE tenant = ?", (tenant,))
    }
    document["users"] = [
        {
            "id": r["user_id"],
            "usageLocation": r["usage_location"],
            "accountEnabled": bool(r["account_enabled"]),
            "deleted": r["lifecycle"] != "active",
            "assignedLicenses": licenses.get(r["user_id"], []),
            "licenseAssignmentStates": states.get(r["user_id"], []),
        }
        for r in conn.execute("SELECT * FROM users WHERE tenant = ? ORDER BY user_id", (tenant,))
    ]

    in_error: dict[str, set[str]] = {}
    for r in conn.execute("SELECT group_id, user_id FROM group_member_errors WHERE tenant = ?", (tenant,)):
        in_error.setdefault(r["group_id"], set()).add(r["user_id"])
    processing = {
        r["group_id"]: r["state"]
        for r in conn.execute("SELECT group_id, state FROM group_processing WHERE tenant = ?", (tenant,))
    }
    document["groups"] = [
        {
            "id": r["group_id"],
            "displayName": r["display_name"],
            "assignedLicenses": json.loads(r["assigned_licenses"]),
            "licenseProcessingState": {"state": processing.get(r["group_id"], "ProcessingComplete")},
            "hasMembersWithLicenseErrors": bool(in_error.get(r["group_id"])),
            "membersWithLicenseErrors": sorted(in_error.get(r["group_id"], ())),
        }
        for r in conn.execute("SELECT * FROM groups WHERE tenant = ? AND deleted = 0 ORDER BY group_id", (tenant,))
    ]
    document["rejectedCommands"] = [
        {"eventId": r["event_id"], "type": r["type"], "error": r["error"], "message": r["message"]}
        for r in conn.execute(
            "SELECT * FROM rejected_commands WHERE tenant = ? ORDER BY position, decision_id", (tenant,)
        )
    ]
    return document
