"""Read-model rows as Graph v1.0 resources: user, group, licenseDetails, with the properties `$select` asks for.

Names and nesting are Graph's (camelCase; `assignedLicenses` carries `skuId` and `disabledPlans` only). Properties
Graph returns only on `$select` (licence properties, usage location, proxy addresses, account state) are left out
of the default answer, as Graph leaves them out.
"""

from __future__ import annotations

from typing import Any

from processor.api.reads import Assignment, GroupRow, ReadModels, UserLicenses, UserRow
from processor.catalog_file import shipped_catalog

USER_PROPERTIES = (
    "id",
    "displayName",
    "userPrincipalName",
    "accountEnabled",
    "usageLocation",
    "proxyAddresses",
    "assignedLicenses",
    "licenseAssignmentStates",
    "assignedPlans",
)
USER_DEFAULT = ("id", "displayName", "userPrincipalName")
LICENSE_PROPERTIES = frozenset({"assignedLicenses", "licenseAssignmentStates", "assignedPlans"})

GROUP_PROPERTIES = (
    "id",
    "displayName",
    "groupTypes",
    "mailEnabled",
    "securityEnabled",
    "assignedLicenses",
    "licenseProcessingState",
)
GROUP_DEFAULT = ("id", "displayName", "groupTypes", "mailEnabled", "securityEnabled")
MAIL_ENABLED_KINDS = frozenset({"mailEnabledSecurity", "m365", "distribution"})
USER_TYPE, GROUP_TYPE = "#microsoft.graph.user", "#microsoft.graph.group"


def graph_licenses(licenses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`assignedLicenses` as Graph has them: skuId and disabledPlans (no skuPartNumber)."""
    return [{"disabledPlans": entry["disabledPlans"], "skuId": entry["skuId"]} for entry in licenses]


def assignment_state(entry: Assignment) -> dict[str, Any]:
    return {
        "assignedByGroup": entry.assigned_by_group,
        "disabledPlans": entry.disabled_plans,
        "error": entry.error,
        "lastUpdatedDateTime": entry.last_updated,
        "skuId": entry.sku_id,
        "state": entry.state,
    }


def assigned_plans(licenses: UserLicenses, states: list[Assignment]) -> list[dict[str, Any]]:
    """Each plan a held SKU enables (Enabled, since the SKU was first applied) and each withdrawn one (Suspended).

    `service` names the plan: the read models do not know which workload (Exchange, SharePoint) runs it."""
    catalog = shipped_catalog()
    since: dict[str, str] = {}
    for entry in states:
        if entry.state in ("Active", "ActiveWithError"):
            since[entry.sku_id] = min(since.get(entry.sku_id, entry.last_updated), entry.last_updated)
    plans: dict[str, dict[str, Any]] = {}
    for held in licenses.assigned_licenses:
        sku = catalog.skus.get(held["skuId"])
        if sku is None:
            continue
        disabled = set(held["disabledPlans"])
        for bit in _bits(sku.plans):
            plan_id = catalog.plan_id(bit)
            if plan_id not in disabled and plan_id not in plans:
                plans[plan_id] = _plan(plan_id, catalog.plan_name(bit), "Enabled", since.get(held["skuId"]))
    for plan_id in licenses.suspended_plans:
        if plan_id not in plans:
            found = catalog.resolve_plan(plan_id)
            name = catalog.plan_name(found) if found is not None else plan_id
            plans[plan_id] = _plan(plan_id, name, "Suspended", None)
    return list(plans.values())


def _plan(plan_id: str, name: str, status: str, since: str | None) -> dict[str, Any]:
    return {"assignedDateTime": since, "capabilityStatus": status, "service": name, "servicePlanId": plan_id}


def _bits(mask: int) -> list[int]:
    return [bit for bit in range(mask.bit_length()) if mask >> bit & 1]


def license_details(licenses: UserLicenses) -> list[dict[str, Any]]:
    """`licenseDetails`: per held SKU, each of its plans, Success where enabled, Disabled where switched off."""
    catalog = shipped_catalog()
    details = []
    for held in licenses.assigned_licenses:
        sku = catalog.skus.get(held["skuId"])
        disabled = set(held["disabledPlans"])
        plans = [] if sku is None else _bits(sku.plans)
        details.append(
            {
                "id": held["skuId"],
                "skuId": held["skuId"],
                "skuPartNumber": held["skuPartNumber"],
                "servicePlans": [
                    {
                        "servicePlanId": catalog.plan_id(bit),
                        "servicePlanName": catalog.plan_name(bit),
                        "provisioningStatus": "Disabled" if catalog.plan_id(bit) in disabled else "Success",
                        "appliesTo": sku.applies_to if sku else "User",
                    }
                    for bit in plans
                ],
            }
        )
    return details


def users_as_graph(
    reads: ReadModels, tenant: str, users: list[UserRow], names: tuple[str, ...], typed: bool = False
) -> list[dict[str, Any]]:
    """The users with the properties `names`; their licence rows are read only if a licence property is asked."""
    ids = [user.user_id for user in users]
    wants = LICENSE_PROPERTIES.intersection(names)
    states = reads.assignments(tenant, ids) if wants & {"licenseAssignmentStates", "assignedPlans"} else {}
    licenses = reads.licenses(tenant, ids) if wants & {"assignedLicenses", "assignedPlans"} else {}
    found = []
    for user in users:
        item: dict[str, Any] = {"@odata.type": USER_TYPE} if typed else {}
        for name in names:
            if name == "id":
                item["id"] = user.user_id
            elif name == "displayName":
                item["displayName"] = user.display_name
            elif name == "userPrincipalName":
                item["userPrincipalName"] = user.user_principal_name
            elif name == "accountEnabled":
                item["accountEnabled"] = user.account_enabled
            elif name == "usageLocation":
                item["usageLocation"] = user.usage_location
            elif name == "proxyAddresses":
                item["proxyAddresses"] = user.proxy_addresses
            elif name == "assignedLicenses":
                item["assignedLicenses"] = graph_licenses(licenses[user.user_id].assigned_licenses)
            elif name == "licenseAssignmentStates":
                item["licenseAssignmentStates"] = [assignment_state(e) for e in states[user.user_id]]
            elif name == "assignedPlans":
                item["assignedPlans"] = assigned_plans(licenses[user.user_id], states[user.user_id])
        found.append(item)
    return found


def group_as_graph(group: GroupRow, names: tuple[str, ...], typed: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"@odata.type": GROUP_TYPE} if typed else {}
    for name in names:
        if name == "id":
            item["id"] = group.group_id
        elif name == "displayName":
            item["displayName"] = group.display_name
        elif name == "groupTypes":
            item["groupTypes"] = ["Unified"] if group.kind == "m365" else []
        elif name == "mailEnabled":
            item["mailEnabled"] = group.kind in MAIL_ENABLED_KINDS
        elif name == "securityEnabled":
            item["securityEnabled"] = group.security_enabled
        elif name == "assignedLicenses":
            item["assignedLicenses"] = graph_licenses(group.assigned_licenses)
        elif name == "licenseProcessingState":
            item["licenseProcessingState"] = {"state": group.processing_state}
    return item
