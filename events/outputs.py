"""Output events (CONTRACT §3) as pydantic models: the processor's published schema, checked by the tests.

The core builds plain dicts for speed; these models are the documented shape every emitted dict must satisfy.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

State = Literal["Active", "ActiveWithError", "Disabled", "Error"]
ErrorCode = Literal[
    "None",
    "CountViolation",
    "MutuallyExclusiveViolation",
    "DependencyViolation",
    "ProhibitedInUsageLocationViolation",
    "UniquenessViolation",
    "Other",
    "Others",
]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    causedBy: str


class LicenseRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    skuId: str
    skuPartNumber: str
    disabledPlans: list[str]


class LicenseAssignmentStateChangedData(Out):
    userId: str
    skuId: str
    skuPartNumber: str
    assignedByGroup: str | None
    state: State | None  # None: the entry is gone
    error: ErrorCode | None
    disabledPlans: list[str]
    errorDetail: dict[str, Any] | None
    lastUpdatedDateTime: str
    previousState: State | None
    previousError: ErrorCode | None
    previousDisabledPlans: list[str]


class CommandRejectedData(Out):
    eventId: str
    type: str
    error: str
    message: str
    userId: str | None = None
    groupId: str | None = None
    detail: dict[str, Any] | None


class GroupLicenseProcessingChangedData(Out):
    groupId: str
    state: Literal["QueuedForProcessing", "ProcessingInProgress", "ProcessingComplete"]
    succeeded: int
    failed: int


class PrepaidUnitsOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    enabled: int
    warning: int
    suspended: int
    lockedOut: int


class ProductUsageChangedData(Out):
    skuId: str
    skuPartNumber: str
    capabilityStatus: str
    prepaidUnits: PrepaidUnitsOut
    consumedUnits: int
    availableUnits: int
    overAssigned: bool


class AssignedLicensesChangedData(Out):
    userId: str
    assignedLicenses: list[LicenseRow]
    suspendedPlans: list[str]


class UserProfileChangedData(Out):
    userId: str
    lifecycle: Literal["active", "softDeleted", "hardDeleted"]
    userPrincipalName: str | None = None
    displayName: str | None = None
    usageLocation: str | None = None
    proxyAddresses: list[str] = []
    accountEnabled: bool = True


class GroupConfigurationChangedData(Out):
    groupId: str
    displayName: str | None
    kind: str
    securityEnabled: bool
    deleted: bool
    assignedLicenses: list[LicenseRow]
    warnings: list[dict[str, Any]] = []


class GroupErrorStatusChangedData(Out):
    groupId: str
    hasMembersWithLicenseErrors: bool


class TenantSettingsChangedData(Out):
    countryLetterCode: str | None
    mode: Literal["faithful", "improved"]
    ruleset: str
    settings: dict[str, Any]


class AuditRecordedData(Out):
    activity: str
    actor: str
    category: Literal["GroupManagement", "UserManagement"]
    targetId: str
    result: str | None
    oldValue: list[LicenseRow] | None = None
    newValue: list[LicenseRow] | None = None
    modifiedProperties: dict[str, Any] | None = None


class OutputEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    specversion: Literal["1.0"]
    id: str
    source: Literal["/licensing-processor"]
    time: str
    tenant: str
    datacontenttype: Literal["application/json"]


def _typed(name: str, data: type[Out]) -> type[OutputEnvelope]:
    return type(name, (OutputEnvelope,), {"__annotations__": {"type": Literal[name], "data": data}})


DATA_MODELS: dict[str, type[Out]] = {
    "LicenseAssignmentStateChanged": LicenseAssignmentStateChangedData,
    "CommandRejected": CommandRejectedData,
    "GroupLicenseProcessingChanged": GroupLicenseProcessingChangedData,
    "ProductUsageChanged": ProductUsageChangedData,
    "AssignedLicensesChanged": AssignedLicensesChangedData,
    "UserProfileChanged": UserProfileChangedData,
    "GroupConfigurationChanged": GroupConfigurationChangedData,
    "GroupErrorStatusChanged": GroupErrorStatusChangedData,
    "TenantSettingsChanged": TenantSettingsChangedData,
    "AuditRecorded": AuditRecordedData,
}
OUTPUT_MODELS = {name: _typed(name, data) for name, data in DATA_MODELS.items()}

OutputEvent = Annotated[Union[tuple(OUTPUT_MODELS.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
output_event_adapter: TypeAdapter[Any] = TypeAdapter(OutputEvent)  # type: ignore[arg-type]  # built at run time
