"""Provenance: the input events behind the facts explain states about one user, recorded while the tenant's log is
re-decided (`history.replay_tenant`): the latest event that changed each of the user's entries, memberships, the
licences of groups, usage locations, proxy addresses, the tenant's country, subscriptions and the vendor's plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.inputs import InputEvent
from processor.analysis.history import EventRef, event_ref
from processor.core.outputs import Output
from processor.core.state import EntryKey, TenantState


@dataclass
class Provenance:
    """The events behind the facts explain states about one user (the latest of each kind)."""

    user_id: str
    entries: dict[EntryKey, EventRef] = field(default_factory=dict)  # last change of each of the user's entries
    memberships: dict[str, EventRef] = field(default_factory=dict)  # group -> the event that made the user a member
    group_configs: dict[str, EventRef] = field(default_factory=dict)  # group -> last change of its licences
    locations: dict[str, EventRef] = field(default_factory=dict)  # user -> last change of its usage location
    addresses: dict[str, EventRef] = field(default_factory=dict)  # user -> last change of its proxy addresses
    subscriptions: dict[str, EventRef] = field(default_factory=dict)  # skuId -> last capacity change
    plans_added: dict[tuple[str, str], EventRef] = field(default_factory=dict)  # (skuId, planId) -> vendor addition
    country: EventRef | None = None  # last change of the tenant's country
    order: dict[str, int] = field(default_factory=dict)  # event id -> its place in the tenant's log
    _snapshot: Any = None

    def before(self, state: TenantState, event: InputEvent) -> None:
        self._snapshot = self._facts(state, event)

    def after(self, state: TenantState, event: InputEvent, status: str, outputs: list[Output]) -> None:
        if status != "applied":
            return
        self.order[event.id] = len(self.order)
        ref = event_ref(event)
        for kind, output in outputs:
            if kind == "LicenseAssignmentStateChanged" and output["userId"] == self.user_id:
                self.entries[(output["skuId"], output["assignedByGroup"])] = ref
        if self._facts(state, event) == self._snapshot:
            return
        data: Any = event.data  # the type's payload record: the branches below read their own type's fields
        if event.type == "GroupMemberAdded":
            self.memberships[data.groupId] = ref
        elif event.type in ("GroupLicensesChanged", "GroupCreated", "GroupDeleted"):
            self.group_configs[data.groupId] = ref
        elif event.type in ("UserCreated", "UserUpdated"):
            location, addresses = self._snapshot
            user = state.users[data.userId]
            if user.usage_location != location:
                self.locations[user.user_id] = ref
            if user.proxy_addresses != addresses:
                self.addresses[user.user_id] = ref
        elif event.type == "TenantConfigured":
            self.country = ref
        elif event.type == "SubscriptionChanged":
            for kind, output in outputs:
                if kind == "ProductUsageChanged":
                    self.subscriptions[output["skuId"]] = ref
        elif event.type == "ServicePlanAdded":
            sku = state.catalog.resolve_sku(data.skuId)
            plan = state.catalog.resolve_plan(data.servicePlanId)
            if sku is not None and plan is not None:
                self.plans_added[(sku.sku_id, state.catalog.plan_id(plan))] = ref

    def _facts(self, state: TenantState, event: InputEvent) -> Any:
        """What the event may change that explain cites, read before and after it."""
        data: Any = event.data
        if event.type == "GroupMemberAdded":
            group = state.groups.get(data.groupId)
            return data.memberId == self.user_id and group is not None and self.user_id in group.members
        if event.type in ("GroupLicensesChanged", "GroupCreated", "GroupDeleted"):
            group = state.groups.get(data.groupId)
            return None if group is None else (dict(group.licenses), group.deleted)
        if event.type in ("UserCreated", "UserUpdated"):
            user = state.users.get(data.userId)
            return (None, None) if user is None else (user.usage_location, user.proxy_addresses)
        if event.type == "TenantConfigured":
            return state.country
        if event.type in ("SubscriptionChanged", "ServicePlanAdded"):
            return object()  # always "changed": the outputs say what
        return None
