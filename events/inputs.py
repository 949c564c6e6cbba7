"""Input events (CONTRACT §1–§2) as the decision core receives them: one immutable record class per `type`.

Which lines are events is defined once, by the pydantic models of the same names in `events.wire` (the validator of
record). Each class here is the record twin of one of them (`events.records`): the same fields, defaults and
`model_fields_set`, at a fraction of the cost to build and free. `events.parse.parse_event` returns these.

SKUs and plans stay as the strings the publisher wrote (GUID or name); the decision core resolves them against the
tenant's catalogue, because an unknown SKU is a business rejection (`UnknownSku`), not a malformed event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from events import wire
from events.records import record_class
from events.wire import INPUT_TYPES, input_event_adapter

if TYPE_CHECKING:
    # A record has exactly the attributes of its wire model (plus `model_fields_set`), so type checkers see the models.
    from events.wire import (
        GroupCreated,
        GroupCreatedData,
        GroupDeleted,
        GroupDeletedData,
        GroupLicensesChanged,
        GroupLicensesChangedData,
        GroupMemberAdded,
        GroupMemberAddedData,
        GroupMemberRemoved,
        GroupMemberRemovedData,
        InputEvent,
        LicenseReprocessRequested,
        LicenseReprocessRequestedData,
        LicenseToAdd,
        PrepaidUnits,
        ServicePlanAdded,
        ServicePlanAddedData,
        SubscriptionChanged,
        SubscriptionChangedData,
        TenantConfigured,
        TenantConfiguredData,
        TenantSettingsInput,
        UserCreated,
        UserCreatedData,
        UserDeleted,
        UserDeletedData,
        UserLicensesChanged,
        UserLicensesChangedData,
        UserRestored,
        UserRestoredData,
        UserUpdated,
        UserUpdatedData,
    )
else:
    # Nested models first: a record class converts its model's defaults (e.g. `PrepaidUnits()`) to records.
    PrepaidUnits = record_class(wire.PrepaidUnits, __name__)
    TenantSettingsInput = record_class(wire.TenantSettingsInput, __name__)
    LicenseToAdd = record_class(wire.LicenseToAdd, __name__)

    TenantConfiguredData = record_class(wire.TenantConfiguredData, __name__)
    SubscriptionChangedData = record_class(wire.SubscriptionChangedData, __name__)
    ServicePlanAddedData = record_class(wire.ServicePlanAddedData, __name__)
    UserCreatedData = record_class(wire.UserCreatedData, __name__)
    UserUpdatedData = record_class(wire.UserUpdatedData, __name__)
    UserDeletedData = record_class(wire.UserDeletedData, __name__)
    UserRestoredData = record_class(wire.UserRestoredData, __name__)
    GroupCreatedData = record_class(wire.GroupCreatedData, __name__)
    GroupDeletedData = record_class(wire.GroupDeletedData, __name__)
    GroupMemberAddedData = record_class(wire.GroupMemberAddedData, __name__)
    GroupMemberRemovedData = record_class(wire.GroupMemberRemovedData, __name__)
    GroupLicensesChangedData = record_class(wire.GroupLicensesChangedData, __name__)
    UserLicensesChangedData = record_class(wire.UserLicensesChangedData, __name__)
    LicenseReprocessRequestedData = record_class(wire.LicenseReprocessRequestedData, __name__)

    TenantConfigured = record_class(wire.TenantConfigured, __name__)
    SubscriptionChanged = record_class(wire.SubscriptionChanged, __name__)
    ServicePlanAdded = record_class(wire.ServicePlanAdded, __name__)
    UserCreated = record_class(wire.UserCreated, __name__)
    UserUpdated = record_class(wire.UserUpdated, __name__)
    UserDeleted = record_class(wire.UserDeleted, __name__)
    UserRestored = record_class(wire.UserRestored, __name__)
    GroupCreated = record_class(wire.GroupCreated, __name__)
    GroupDeleted = record_class(wire.GroupDeleted, __name__)
    GroupMemberAdded = record_class(wire.GroupMemberAdded, __name__)
    GroupMemberRemoved = record_class(wire.GroupMemberRemoved, __name__)
    GroupLicensesChanged = record_class(wire.GroupLicensesChanged, __name__)
    UserLicensesChanged = record_class(wire.UserLicensesChanged, __name__)
    LicenseReprocessRequested = record_class(wire.LicenseReprocessRequested, __name__)

    # The records of the wire union's members, in the same order.
    InputEvent = Union[tuple(globals()[model.__name__] for model in wire.InputEvent.__args__)]  # type: ignore[valid-type]

__all__ = [
    "INPUT_TYPES",
    "InputEvent",
    "input_event_adapter",
    "GroupCreated",
    "GroupCreatedData",
    "GroupDeleted",
    "GroupDeletedData",
    "GroupLicensesChanged",
    "GroupLicensesChangedData",
    "GroupMemberAdded",
    "GroupMemberAddedData",
    "GroupMemberRemoved",
    "GroupMemberRemovedData",
    "LicenseReprocessRequested",
    "LicenseReprocessRequestedData",
    "LicenseToAdd",
    "PrepaidUnits",
    "ServicePlanAdded",
    "ServicePlanAddedData",
    "SubscriptionChanged",
    "SubscriptionChangedData",
    "TenantConfigured",
    "TenantConfiguredData",
    "TenantSettingsInput",
    "UserCreated",
    "UserCreatedData",
    "UserDeleted",
    "UserDeletedData",
    "UserLicensesChanged",
    "UserLicensesChangedData",
    "UserRestored",
    "UserRestoredData",
    "UserUpdated",
    "UserUpdatedData",
]
