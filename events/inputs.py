"""Input events (CONTRACT §1–§2) as the decision core receives them: one immutable record class per `type`.

Which lines are events is defined once, by the pydantic models of the same names in `events.wire` (the validator of
record). Each class here is the record twin of one of them (`events.records`): a frozen msgspec Struct with the same
fields and defaults, at a fraction of the cost to build and free; a clearable field (`events.wire.CLEARABLE`) reads
`UNSET` when the input left it out. `events.parse.parse_event` returns these.

SKUs and plans stay as the strings the publisher wrote (GUID or name); the decision core resolves them against the
tenant's catalogue, because an unknown SKU is a business rejection (`UnknownSku`), not a malformed event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from events import wire
from events.records import Record, record_class
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

    def _record(model: Any) -> type[Record]:
        """The record class of a wire model; an envelope's `type` is its tag."""
        tag = "type" if "type" in model.model_fields else None
        return record_class(model, __name__, tag_field=tag, clearable=wire.CLEARABLE.get(model, frozenset()))

    # Nested models first: a record class converts its model's defaults (e.g. `PrepaidUnits()`) to records.
    PrepaidUnits = _record(wire.PrepaidUnits)
    TenantSettingsInput = _record(wire.TenantSettingsInput)
    LicenseToAdd = _record(wire.LicenseToAdd)

    TenantConfiguredData = _record(wire.TenantConfiguredData)
    SubscriptionChangedData = _record(wire.SubscriptionChangedData)
    ServicePlanAddedData = _record(wire.ServicePlanAddedData)
    UserCreatedData = _record(wire.UserCreatedData)
    UserUpdatedData = _record(wire.UserUpdatedData)
    UserDeletedData = _record(wire.UserDeletedData)
    UserRestoredData = _record(wire.UserRestoredData)
    GroupCreatedData = _record(wire.GroupCreatedData)
    GroupDeletedData = _record(wire.GroupDeletedData)
    GroupMemberAddedData = _record(wire.GroupMemberAddedData)
    GroupMemberRemovedData = _record(wire.GroupMemberRemovedData)
    GroupLicensesChangedData = _record(wire.GroupLicensesChangedData)
    UserLicensesChangedData = _record(wire.UserLicensesChangedData)
    LicenseReprocessRequestedData = _record(wire.LicenseReprocessRequestedData)

    TenantConfigured = _record(wire.TenantConfigured)
    SubscriptionChanged = _record(wire.SubscriptionChanged)
    ServicePlanAdded = _record(wire.ServicePlanAdded)
    UserCreated = _record(wire.UserCreated)
    UserUpdated = _record(wire.UserUpdated)
    UserDeleted = _record(wire.UserDeleted)
    UserRestored = _record(wire.UserRestored)
    GroupCreated = _record(wire.GroupCreated)
    GroupDeleted = _record(wire.GroupDeleted)
    GroupMemberAdded = _record(wire.GroupMemberAdded)
    GroupMemberRemoved = _record(wire.GroupMemberRemoved)
    GroupLicensesChanged = _record(wire.GroupLicensesChanged)
    UserLicensesChanged = _record(wire.UserLicensesChanged)
    LicenseReprocessRequested = _record(wire.LicenseReprocessRequested)

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
