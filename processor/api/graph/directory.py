"""The tenant's directory-wide resources: subscribedSkus, organization, auditLogs/directoryAudits.

The service plans of a product are the shipped catalogue's (a tenant's ServicePlanAdded events are not in the read
models).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import APIRouter, Request

from processor.api.graph.errors import bad_request
from processor.api.graph.odata import (
    STRING,
    Filter,
    KnownTenant,
    SkipToken,
    Top,
    context_url,
    invalid_filter,
    match_clause,
    next_link,
    page_body,
    paging,
    split_and,
    string_value,
)
from processor.api.graph.schemas import ERRORS, DirectoryAuditPage, OrganizationPage, SubscribedSkuPage
from processor.api.keyset import cut_page
from processor.api.reads import AuditRecord, Product
from processor.api.services import JSON, Store
from processor.catalog_file import shipped_catalog

router = APIRouter(responses=ERRORS)
DIRECTORY: list[str | Enum] = ["Microsoft Graph: directory"]
organization_doc: dict[int | str, dict[str, Any]] = {200: {"model": OrganizationPage}}
audits_doc: dict[int | str, dict[str, Any]] = {200: {"model": DirectoryAuditPage}}


def subscribed_sku(tenant: str, product: Product) -> dict[str, Any]:
    catalog = shipped_catalog()
    sku = catalog.skus.get(product.sku_id)
    plans = [] if sku is None else [bit for bit in range(len(catalog.plan_ids)) if sku.plans >> bit & 1]
    return {
        "accountId": tenant,
        "accountName": tenant,
        "appliesTo": sku.applies_to if sku else "User",
        "capabilityStatus": product.capability_status,
        "consumedUnits": product.consumed,
        "id": f"{tenant}_{product.sku_id}",
        "prepaidUnits": {
            "enabled": product.enabled,
            "suspended": product.suspended,
            "warning": product.warning,
            "lockedOut": product.locked_out,
        },
        "servicePlans": [
            {
                "servicePlanId": catalog.plan_id(bit),
                "servicePlanName": catalog.plan_name(bit),
                "provisioningStatus": "Success",
                "appliesTo": sku.applies_to if sku else "User",
            }
            for bit in plans
        ],
        "skuId": product.sku_id,
        "skuPartNumber": product.sku_part_number,
        "subscriptionIds": [],
    }


@router.get(
    "/subscribedSkus",
    tags=DIRECTORY,
    response_model=None,
    responses={200: {"model": SubscribedSkuPage}},
)
def list_subscribed_skus(request: Request, tenant: KnownTenant, store: Store) -> JSON:
    """The tenant's products: seats bought (`prepaidUnits`), consumed, and their service plans."""
    value = [subscribed_sku(tenant.tenant_id, product) for product in store.reads.products(tenant.tenant_id)]
    return JSON(page_body(context_url(request, tenant.tenant_id, "subscribedSkus"), value, None, None))


@router.get("/organization", tags=DIRECTORY, response_model=None, responses=organization_doc)
def list_organization(request: Request, tenant: KnownTenant) -> JSON:
    """The tenant; `countryLetterCode` is the usage location of users who have none."""
    value = [{"id": tenant.tenant_id, "displayName": tenant.tenant_id, "countryLetterCode": tenant.country_letter_code}]
    return JSON(page_body(context_url(request, tenant.tenant_id, "organization"), value, None, None))


USER_ACTIVITIES = frozenset({"Change user license"})  # the others are GroupManagement's


def directory_audit(record: AuditRecord) -> dict[str, Any]:
    result = record.result or ""
    failed = result.startswith("failure")
    user_activity = record.activity in USER_ACTIVITIES
    return {
        "id": record.record_id,
        "category": "UserManagement" if user_activity else "GroupManagement",
        "correlationId": record.record_id.split("#")[0],
        "result": "failure" if failed else "success",
        "resultReason": result.removeprefix("failure: ") if failed else ("" if result == "success" else result),
        "activityDisplayName": record.activity,
        "activityDateTime": record.time,
        "loggedByService": "Core Directory",
        "operationType": "Assign" if user_activity else "Update",
        "initiatedBy": {"app": {"displayName": record.actor}},
        "targetResources": [{"id": record.target, "type": "User" if user_activity else "Group"}],
        "additionalDetails": [],
    }


@router.get("/auditLogs/directoryAudits", tags=DIRECTORY, response_model=None, responses=audits_doc)
def list_directory_audits(
    request: Request,
    tenant: KnownTenant,
    store: Store,
    filter: Filter = None,
    top: Top = None,
    skiptoken: SkipToken = None,
) -> JSON:
    """The licensing audit records in log order; `$filter=activityDisplayName eq '…'`."""
    page = paging(request, top, None, skiptoken)
    activity = None
    for clause in split_and(filter) if filter is not None else []:
        found = match_clause(rf"activityDisplayName\s+eq\s+{STRING}", clause)
        if found is None:
            raise invalid_filter(clause)
        activity = string_value(found[1])
    after = page.after
    if after is not None and not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], int)):
        raise bad_request("'$skiptoken' is invalid.")
    records = store.reads.audit_records(tenant.tenant_id, tuple(after) if after else None, page.top + 1, activity)
    records, next_after = cut_page(records, page.top, lambda record: [record.position, record.record_id])
    value = [directory_audit(record) for record in records]
    context = context_url(request, tenant.tenant_id, "auditLogs/directoryAudits")
    return JSON(page_body(context, value, None, next_link(request, next_after)))
