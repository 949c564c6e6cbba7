"""Input events on the wire (CONTRACT §1–§2): one pydantic envelope model per `type`, discriminated on `type`.

These models are the validator of record: they alone define which lines are events, and `input_event_adapter` gives
every dead-letter reason. The decision core does not receive them: `events.inputs` holds a lightweight record twin of
each model (same name, fields and defaults) and `events.parse` builds those, because constructing and freeing two
pydantic models per line was most of the cost of ingesting it.

SKUs and plans stay as the strings the publisher wrote (GUID or name); the decision core resolves them against the
tenant's catalogue, because an unknown SKU is a business rejection (`UnknownSku`), not a malformed event.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    model_validator,
)
from pydantic_core import PydanticCustomError

from events.records import keeps_values_matching
from events.times import COMMON_TIMES, TimeFormatError, canonical_time

# Bounds of the integers, so that no line carries a number the store cannot hold: SQLite's and the encoders'
# integers are 64-bit, and a line whose number overflowed them would fail at the same place on every retry.
MAX_SEATS = 10**9
"""The most seats of one state a subscription may hold: the sums the decision core makes of them stay far below 2^63."""
MAX_VERSION = 2**63 - 1
"""The largest `version`: a signed 64-bit integer, as SQLite stores it (a counter, or a time in nanoseconds, fits)."""

Seats = Annotated[StrictInt, Field(ge=0, le=MAX_SEATS, description="A count of seats, 0 to 10^9.")]
Version = Annotated[
    StrictInt,
    Field(ge=0, le=MAX_VERSION, description="Ordering per aggregate, 0 to 2^63 - 1 (a signed 64-bit integer)."),
]


class Wire(BaseModel):
    """Strict, immutable; unknown payload fields are ignored so that publishers may add fields (forward compatible)."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)


class PrepaidUnits(Wire):
    enabled: Seats = 0
    warning: Seats = 0
    suspended: Seats = 0
    lockedOut: Seats = 0


class TenantSettingsInput(Wire):
    groupPrereqPolicy: Literal["reject", "disableDependentPlan"] | None = None
    dependencyOnGroupRemoval: Literal["keepWithError", "convertToDirect"] | None = None
    proxyConflictMode: Literal["recordError", "silentSkip"] | None = None
    allowedGroupKinds: (
        list[Literal["security", "m365SecurityEnabled", "mailEnabledSecurity", "m365", "distribution"]] | None
    ) = None
    releaseSeatOnSoftDelete: StrictBool | None = None
    errorEnumSpelling: Literal["Other", "Others"] | None = None


class TenantConfiguredData(Wire):
    countryLetterCode: StrictStr | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    mode: Literal["faithful", "improved"] | None = None
    ruleset: Literal["classic-2019", "current-2023"] | None = None
    settings: TenantSettingsInput | None = None


class SubscriptionChangedData(Wire):
    skuId: StrictStr = Field(min_length=1)
    prepaidUnits: PrepaidUnits = PrepaidUnits()
    version: Version | None = None


class ServicePlanAddedData(Wire):
    skuId: StrictStr = Field(min_length=1)
    servicePlanId: StrictStr = Field(min_length=1)
    servicePlanName: StrictStr = Field(min_length=1)


class UserCreatedData(Wire):
    userId: StrictStr = Field(min_length=1)
    userPrincipalName: StrictStr | None = None
    displayName: StrictStr | None = None
    usageLocation: StrictStr | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    proxyAddresses: list[StrictStr] = []
    accountEnabled: StrictBool = True


class UserUpdatedData(Wire):
    userId: StrictStr = Field(min_length=1)
    usageLocation: StrictStr | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    proxyAddresses: list[StrictStr] | None = None
    accountEnabled: StrictBool | None = None
    displayName: StrictStr | None = None
    version: Version | None = None


class UserDeletedData(Wire):
    userId: StrictStr = Field(min_length=1)
    permanent: StrictBool = False


class UserRestoredData(Wire):
    userId: StrictStr = Field(min_length=1)


class GroupCreatedData(Wire):
    groupId: StrictStr = Field(min_length=1)
    displayName: StrictStr | None = None
    kind: Literal["security", "mailEnabledSecurity", "m365", "distribution"] = "security"
    securityEnabled: StrictBool = True


class GroupDeletedData(Wire):
    groupId: StrictStr = Field(min_length=1)


class GroupMemberAddedData(Wire):
    groupId: StrictStr = Field(min_length=1)
    memberId: StrictStr = Field(min_length=1)
    memberType: Literal["user", "group"] = "user"
    version: Version | None = None


class GroupMemberRemovedData(Wire):
    groupId: StrictStr = Field(min_length=1)
    memberId: StrictStr = Field(min_length=1)
    version: Version | None = None


class LicenseToAdd(Wire):
    skuId: StrictStr = Field(min_length=1)
    disabledPlans: list[StrictStr] = []


class GroupLicensesChangedData(Wire):
    groupId: StrictStr = Field(min_length=1)
    addLicenses: list[LicenseToAdd] = []
    removeLicenses: list[StrictStr] = []
    version: Version | None = None


class UserLicensesChangedData(Wire):
    userId: StrictStr = Field(min_length=1)
    addLicenses: list[LicenseToAdd] = []
    removeLicenses: list[StrictStr] = []


class LicenseReprocessRequestedData(Wire):
    """The admin's Reprocess of one user, one group, every user in error (`allErrors: true`), or every user in error
    on one product (`skuId`, GUID or part number): exactly one of them."""

    userId: StrictStr | None = Field(None, min_length=1)
    groupId: StrictStr | None = Field(None, min_length=1)
    allErrors: StrictBool | None = None
    skuId: StrictStr | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def exactly_one_target(self) -> LicenseReprocessRequestedData:
        targets = [self.userId is not None, self.groupId is not None, self.allErrors is True, self.skuId is not None]
        if sum(targets) != 1 or self.allErrors is False:
            raise ValueError("exactly one of userId, groupId, allErrors (true) or skuId is required")
        return self


# Fields where null and absence differ: null clears the value, absence keeps it (a partial update). Their records read
# `UNSET` when the input left them out (events.records); every other optional field means the same absent or null.
CLEARABLE: dict[type[Wire], frozenset[str]] = {
    TenantConfiguredData: frozenset({"countryLetterCode"}),
    UserUpdatedData: frozenset({"usageLocation"}),
}


@keeps_values_matching(COMMON_TIMES)
def _rfc3339_time(text: str) -> str:
    try:
        return canonical_time(text)
    except TimeFormatError as exc:
        raise PydanticCustomError("rfc3339_time", "{reason}", {"reason": str(exc)}) from None


RFC3339Time = Annotated[StrictStr, AfterValidator(_rfc3339_time)]
"""An RFC 3339 time (`events.times`), kept with `t` and `z` in upper case."""


class Envelope(Wire):
    """CloudEvents 1.0 structured-mode attributes shared by every event."""

    specversion: Literal["1.0"]
    id: StrictStr = Field(min_length=1)
    source: StrictStr = Field(min_length=1)
    time: RFC3339Time
    tenant: StrictStr = Field(min_length=1)
    datacontenttype: Literal["application/json"] | None = None


class TenantConfigured(Envelope):
    type: Literal["TenantConfigured"]
    data: TenantConfiguredData


class SubscriptionChanged(Envelope):
    type: Literal["SubscriptionChanged"]
    data: SubscriptionChangedData


class ServicePlanAdded(Envelope):
    type: Literal["ServicePlanAdded"]
    data: ServicePlanAddedData


class UserCreated(Envelope):
    type: Literal["UserCreated"]
    data: UserCreatedData


class UserUpdated(Envelope):
    type: Literal["UserUpdated"]
    data: UserUpdatedData


class UserDeleted(Envelope):
    type: Literal["UserDeleted"]
    data: UserDeletedData


class UserRestored(Envelope):
    type: Literal["UserRestored"]
    data: UserRestoredData


class GroupCreated(Envelope):
    type: Literal["GroupCreated"]
    data: GroupCreatedData


class GroupDeleted(Envelope):
    type: Literal["GroupDeleted"]
    data: GroupDeletedData


class GroupMemberAdded(Envelope):
    type: Literal["GroupMemberAdded"]
    data: GroupMemberAddedData


class GroupMemberRemoved(Envelope):
    type: Literal["GroupMemberRemoved"]
    data: GroupMemberRemovedData


class GroupLicensesChanged(Envelope):
    type: Literal["GroupLicensesChanged"]
    data: GroupLicensesChangedData


class UserLicensesChanged(Envelope):
    type: Literal["UserLicensesChanged"]
    data: UserLicensesChangedData


class LicenseReprocessRequested(Envelope):
    type: Literal["LicenseReprocessRequested"]
    data: LicenseReprocessRequestedData


InputEvent = Union[
    TenantConfigured,
    SubscriptionChanged,
    ServicePlanAdded,
    UserCreated,
    UserUpdated,
    UserDeleted,
    UserRestored,
    GroupCreated,
    GroupDeleted,
    GroupMemberAdded,
    GroupMemberRemoved,
    GroupLicensesChanged,
    UserLicensesChanged,
    LicenseReprocessRequested,
]

INPUT_TYPES: tuple[str, ...] = tuple(model.model_fields["type"].annotation.__args__[0] for model in InputEvent.__args__)  # type: ignore[attr-defined]

input_event_adapter: TypeAdapter[InputEvent] = TypeAdapter(Annotated[InputEvent, Field(discriminator="type")])
