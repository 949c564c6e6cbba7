"""Test helper: a snapshot folder written the way Microsoft Graph v1.0 would answer for a tenant of our database.

Built from the tenant's export document and read models, and the memberships of its decided state (no read model
keeps those); soft-deleted users and deleted groups are left out, as Graph lists neither.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from processor.catalog_file import load_catalog_data
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document

GRAPH_KINDS = {  # kind -> (groupTypes, mailEnabled); securityEnabled is stored as such
    "security": ([], False),
    "mailEnabledSecurity": ([], True),
    "m365": (["Unified"], True),
    "distribution": ([], True),
}


def write_graph_snapshot(conn: sqlite3.Connection, tenant: str, folder: Path) -> dict[str, Any]:
    """Write the snapshot files; returns the export document they were made from."""
    document = tenant_document(conn, tenant)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "members").mkdir(exist_ok=True)
    _write(folder / "organization.json", [{"id": tenant, "countryLetterCode": document["tenant"]["countryLetterCode"]}])
    plans = {sku["skuId"]: sku["servicePlans"] for sku in load_catalog_data()["skus"]}
    _write(
        folder / "subscribedSkus.json",
        [
            {
                "id": f"{tenant}_{sku['skuId']}",
                "skuId": sku["skuId"],
                "skuPartNumber": sku["skuPartNumber"],
                "appliesTo": "User",
                "capabilityStatus": sku["capabilityStatus"],
                "consumedUnits": sku["consumedUnits"],
                "prepaidUnits": sku["prepaidUnits"],
                "servicePlans": [
                    {"servicePlanId": p["servicePlanId"], "servicePlanName": p["servicePlanName"]}
                    for p in plans[sku["skuId"]]
                ],
            }
            for sku in document["subscribedSkus"]
        ],
    )
    profiles = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT user_id, user_principal_name, display_name, proxy_addresses FROM users WHERE tenant = ?", (tenant,)
        )
    }
    users = []
    for user in document["users"]:
        if user["deleted"]:
            continue
        upn, name, addresses = profiles[user["id"]]
        users.append(
            {
                "id": user["id"],
                "userPrincipalName": upn,
                "displayName": name,
                "accountEnabled": user["accountEnabled"],
                "usageLocation": user["usageLocation"],
                "proxyAddresses": json.loads(addresses),
                "assignedLicenses": [
                    {"skuId": lic["skuId"], "disabledPlans": lic["disabledPlans"]} for lic in user["assignedLicenses"]
                ],
                "licenseAssignmentStates": [
                    {
                        "assignedByGroup": s["assignedByGroup"],
                        "disabledPlans": s["disabledPlans"],
                        "error": s["error"],
                        "lastUpdatedDateTime": s["lastUpdatedDateTime"],
                        "skuId": s["skuId"],
                        "state": s["state"],
                    }
                    for s in user["licenseAssignmentStates"]
                ],
            }
        )
    _write(folder / "users.json", users)
    kinds = {row[0]: row[1:] for row in conn.execute("SELECT group_id, kind, security_enabled FROM groups")}
    groups = []
    for group in document["groups"]:
        kind, security = kinds[group["id"]]
        types, mail = GRAPH_KINDS[kind]
        groups.append(
            {
                "id": group["id"],
                "displayName": group["displayName"],
                "groupTypes": types,
                "securityEnabled": bool(security),
                "mailEnabled": mail,
                "assignedLicenses": [
                    {"skuId": lic["skuId"], "disabledPlans": lic["disabledPlans"]} for lic in group["assignedLicenses"]
                ],
                "licenseProcessingState": group["licenseProcessingState"],
            }
        )
    _write(folder / "groups.json", groups)
    state = EmbeddedRuntime(conn).tenant(tenant)
    listed = {user["id"] for user in users}
    for group in groups:
        decided = state.groups[group["id"]]
        members = [{"@odata.type": "#microsoft.graph.user", "id": u} for u in decided.members if u in listed]
        members += [{"@odata.type": "#microsoft.graph.group", "id": g} for g in decided.nested]
        _write(folder / "members" / f"{group['id']}.json", members)
    return document


def _write(path: Path, value: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"value": value}, indent=1), encoding="utf-8")
