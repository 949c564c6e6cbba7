"""The answers of the Graph routes as OpenAPI schemas (documentation, and what the fuzzing tests hold answers to).

Routes build their JSON directly (a 999-user page is not validated field by field on every request); these models
only describe it. Every property is optional, because `$select` decides which are present.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class AssignedLicense(Model):
    skuId: str
    disabledPlans: list[str]


class LicenseAssignmentState(Model):
    assignedByGroup: str | None
    disabledPlans: list[str]
    error: str
    lastUpdatedDateTime: str
    skuId: str
    state: str


class AssignedPlan(Model):
    assignedDateTime: str | None
    capabilityStatus: str
    service: str
    servicePlanId: str


class User(Model):
    odata_type: str | None = Field(None, alias="@odata.type")
    id: str
    displayName: str | None = None
    userPrincipalName: str | None = None
    accountEnabled: bool | None = None
    usageLocation: str | None = None
    proxyAddresses: list[str] | None = None
    assignedLicenses: list[AssignedLicense] | None = None
    licenseAssignmentStates: list[LicenseAssignmentState] | None = None
    assignedPlans: list[AssignedPlan] | None = None


class ProcessingState(Model):
    state: str


class Group(Model):
    odata_type: str | None = Field(None, alias="@odata.type")
    id: str
    displayName: str | None = None
    groupTypes: list[str] | None = None
    mailEnabled: bool | None = None
    securityEnabled: bool | None = None
    assignedLicenses: list[AssignedLicense] | None = None
    licenseProcessingState: ProcessingState | None = None


class Page(Model):
    odata_context: str = Field(alias="@odata.context")
    odata_count: int | None = Field(None, alias="@odata.count")
    odata_next_link: str | None = Field(None, alias="@odata.nextLink")


class UserEntity(User):
    odata_context: str = Field(alias="@odata.context")


class GroupEntity(Group):
    odata_context: str = Field(alias="@odata.context")


class UserPage(Page):
    value: list[User]


class GroupPage(Page):
    value: list[Group]


class DirectoryObjectPage(Page):
    """Members: users and groups, told apart by `@odata.type`."""

    value: list[dict[str, Any]]


class ServicePlanInfo(Model):
    servicePlanId: str
    servicePlanName: str
    provisioningStatus: str
    appliesTo: str


class LicenseDetails(Model):
    id: str
    skuId: str
    skuPartNumber: str
    servicePlans: list[ServicePlanInfo]


class LicenseDetailsPage(Page):
    value: list[LicenseDetails]


class LicenseUnits(Model):
    enabled: int
    suspended: int
    warning: int
    lockedOut: int


class SubscribedSku(Model):
    accountId: str
    accountName: str
    appliesTo: str
    capabilityStatus: str
    consumedUnits: int
    id: str
    prepaidUnits: LicenseUnits
    servicePlans: list[ServicePlanInfo]
    skuId: str
    skuPartNumber: str
    subscriptionIds: list[str]


class SubscribedSkuPage(Page):
    value: list[SubscribedSku]


class Organization(Model):
    id: str
    displayName: str | None
    countryLetterCode: str | None


class OrganizationPage(Page):
    value: list[Organization]


class TargetResource(Model):
    id: str
    type: str


class DirectoryAudit(Model):
    id: str
    activityDateTime: str
    activityDisplayName: str
    category: str
    loggedByService: str
    operationType: str
    result: str
    resultReason: str
    initiatedBy: dict[str, Any]
    targetResources: list[TargetResource]


class DirectoryAuditPage(Page):
    value: list[DirectoryAudit]


class AcceptedRequests(Model):
    """Extension answer: how many reprocess requests were logged, and whether they were decided already."""

    requested: int
    decided: bool


class InnerError(Model):
    date: str
    request_id: str = Field(alias="request-id")
    client_request_id: str = Field(alias="client-request-id")


class MainError(Model):
    code: str
    message: str
    innerError: InnerError


class ODataError(Model):
    error: MainError


# The OpenAPI tag of this server's routes that Microsoft Graph does not have.
EXTENSIONS: list[str | Enum] = ["Extensions (not in Microsoft Graph)"]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ODataError, "description": description}
    for status, description in (
        (400, "Bad request: an unknown property, filter or body, or a command the rules refused."),
        (401, "No or a wrong bearer token (when the server has one)."),
        (403, "A command on a read-only server."),
        (404, "No such tenant, user or group."),
        (413, "The request body is larger than the server accepts."),
    )
}
COUNTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}}, "description": "The count."}
}
