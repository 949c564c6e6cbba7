"""Given/when/then harness for the SPEC §4 scenarios: fixture F0 and one method per input event.

Events go through the real wire path (JSON -> pydantic -> decide), so a scenario test also exercises parsing,
name resolution and output emission. Assertions read the tenant state and the emitted output events.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from events import parse_event
from processor.catalog_file import load_catalog_data, shipped_catalog
from processor.core.decide import decide, new_tenant
from processor.core.state import Entry, TenantState

CATALOG_DATA = load_catalog_data()
SHORT = {sku["short"]: sku["skuPartNumber"] for sku in CATALOG_DATA["skus"]}
PLANS_OF = {sku["short"]: [plan["servicePlanName"] for plan in sku["servicePlans"]] for sku in CATALOG_DATA["skus"]}
START = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)

License = str | tuple[str, list[str]]


def all_plans_except(short: str, *keep: str) -> list[str]:
    return [plan for plan in PLANS_OF[short] if plan not in keep]


def cloud_event(
    tenant: str,
    n: int,
    event_type: str,
    data: dict[str, Any],
    source: str = "/test",
    *,
    start: datetime = START,
    event_id: str | None = None,
    at: str | None = None,
) -> dict[str, Any]:
    """The n-th event of a test stream as published: id `e<n>` and time `start` + n seconds unless given."""
    return {
        "specversion": "1.0",
        "id": event_id or f"e{n}",
        "source": source,
        "type": event_type,
        "time": at or (start + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tenant": tenant,
        "data": data,
    }


def decide_stream(events: list[dict[str, Any]]) -> tuple[list[list[dict[str, Any]]], dict[str, TenantState]]:
    """Every event's outputs, and each tenant's final state: the events decided in order, each parsed from its JSON."""
    states: dict[str, TenantState] = {}
    outputs = []
    for event in events:
        state = states.setdefault(event["tenant"], new_tenant(event["tenant"], shipped_catalog()))
        outputs.append(decide(state, parse_event(json.dumps(event))).outputs)
    return outputs, states


def license_changes(add: list[License] = [], remove: list[str] = []) -> dict[str, Any]:
    """`addLicenses` and `removeLicenses` of a Group/UserLicensesChanged, from short product names."""
    return {"addLicenses": _licenses(add), "removeLicenses": _skus(remove)}


class Scenario:
    """One tenant driven event by event; `f0=True` starts from fixture F0 (SPEC §3.4)."""

    def __init__(
        self,
        mode: str = "faithful",
        ruleset: str = "classic-2019",
        settings: dict[str, Any] | None = None,
        country: str | None = "US",
        f0: bool = True,
        tenant_id: str = "contoso",
    ) -> None:
        self.tenant_id = tenant_id
        self.state: TenantState = new_tenant(tenant_id, shipped_catalog())
        self.outputs: list[dict[str, Any]] = []
        self.last: list[dict[str, Any]] = []
        self.statuses: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._n = 0
        if not f0:
            return
        config: dict[str, Any] = {"mode": mode, "ruleset": ruleset, "countryLetterCode": country}
        if settings:
            config["settings"] = settings
        self.send("TenantConfigured", **config)
        for short, seats in CATALOG_DATA["demoFixtureF0"]["capacity"].items():
            self.capacity(short, seats)
        for user in CATALOG_DATA["demoFixtureF0"]["users"]:
            self.send(
                "UserCreated",
                userId=user["id"],
                displayName=user["name"],
                usageLocation=user["usageLocation"],
                proxyAddresses=[f"SMTP:{user['name'].lower()}@contoso.com"],
            )

    # ---- when -------------------------------------------------------------------------------------------

    def send(
        self,
        event_type: str,
        event_id: str | None = None,
        at: str | None = None,
        source: str = "/test",
        **data: Any,
    ) -> list[dict[str, Any]]:
        """Publish one event; `source` is the envelope's publisher, which audits name as the actor."""
        self._n += 1
        event = cloud_event(self.tenant_id, self._n, event_type, data, source, event_id=event_id, at=at)
        self.events.append(event)
        decision = decide(self.state, parse_event(json.dumps(event)))
        self.statuses.append(decision.status)
        self.last = decision.outputs
        self.outputs.extend(decision.outputs)
        return decision.outputs

    def capacity(self, short: str, enabled: int, warning: int = 0, suspended: int = 0, locked_out: int = 0) -> None:
        units = {"enabled": enabled, "warning": warning, "suspended": suspended, "lockedOut": locked_out}
        self.send("SubscriptionChanged", skuId=SHORT[short], prepaidUnits=units)

    def group(self, group_id: str, *licenses: License, kind: str = "security", security_enabled: bool = True) -> None:
        self.send("GroupCreated", groupId=group_id, displayName=group_id, kind=kind, securityEnabled=security_enabled)
        if licenses:
            self.assign(group_id, add=list(licenses))

    def assign(
        self, group_id: str, add: list[License] = [], remove: list[str] = [], version: int | None = None
    ) -> list[dict[str, Any]]:
        data: dict[str, Any] = {"groupId": group_id, **license_changes(add, remove)}
        if version is not None:
            data["version"] = version
        return self.send("GroupLicensesChanged", **data)

    def direct(self, user_id: str, add: list[License] = [], remove: list[str] = []) -> list[dict[str, Any]]:
        return self.send("UserLicensesChanged", userId=user_id, **license_changes(add, remove))

    def add(self, group_id: str, *members: str, version: int | None = None, event_id: str | None = None) -> None:
        for member in members:
            extra = {"version": version} if version is not None else {}
            self.send("GroupMemberAdded", event_id=event_id, groupId=group_id, memberId=member, **extra)

    def add_group(self, group_id: str, nested: str) -> None:
        self.send("GroupMemberAdded", groupId=group_id, memberId=nested, memberType="group")

    def remove(self, group_id: str, *members: str, version: int | None = None) -> None:
        for member in members:
            extra = {"version": version} if version is not None else {}
            self.send("GroupMemberRemoved", groupId=group_id, memberId=member, **extra)

    def update_user(self, user_id: str, **fields: Any) -> None:
        self.send("UserUpdated", userId=user_id, **fields)

    def reprocess_user(self, user_id: str) -> list[dict[str, Any]]:
        return self.send("LicenseReprocessRequested", userId=user_id)

    def reprocess_group(self, group_id: str) -> list[dict[str, Any]]:
        return self.send("LicenseReprocessRequested", groupId=group_id)

    # ---- then -------------------------------------------------------------------------------------------

    def entry(self, user_id: str, short: str, source: str = "direct") -> Entry | None:
        user = self.state.users.get(user_id)
        if user is None:
            return None
        sku = self.state.catalog.resolve_sku(SHORT[short])
        assert sku is not None
        return user.entries.get((sku.sku_id, None if source == "direct" else source))

    def status(self, user_id: str, short: str, source: str = "direct") -> tuple[str, str] | None:
        entry = self.entry(user_id, short, source)
        return (entry.state, entry.error) if entry else None

    def entries(self, user_id: str) -> dict[tuple[str, str], tuple[str, str]]:
        """{(short, source): (state, error)} of every entry of the user."""
        by_id = {sku["skuId"]: sku["short"] for sku in CATALOG_DATA["skus"]}
        user = self.state.users[user_id]
        return {(by_id[sku_id], source or "direct"): (e.state, e.error) for (sku_id, source), e in user.entries.items()}

    def disabled(self, user_id: str, short: str, source: str = "direct") -> set[str]:
        entry = self.entry(user_id, short, source)
        assert entry is not None
        return self._names(entry.disabled)

    def effective_disabled(self, user_id: str, short: str) -> set[str] | None:
        """`assignedLicenses[short].disabledPlans` by name; None when the user does not hold the SKU."""
        from processor.core.views import licenses_view

        sku = self.state.catalog.resolve_sku(SHORT[short])
        assert sku is not None
        for sku_id, disabled in licenses_view(self.state.catalog, self.state.users[user_id]):
            if sku_id == sku.sku_id:
                return self._names(disabled)
        return None

    def suspended(self, user_id: str) -> set[str]:
        return self._names(self.state.users[user_id].suspended)

    def enabled(self, user_id: str) -> set[str]:
        from processor.core.holdings import enabled_plans

        return self._names(enabled_plans(self.state.catalog, self.state.users[user_id]))

    def usage(self, short: str) -> tuple[int, int]:
        """(consumed, available) of a product."""
        sku = self.state.catalog.resolve_sku(SHORT[short])
        assert sku is not None
        return self.state.consumed.get(sku.sku_id, 0), self.state.available(sku.sku_id)

    def groups_with_errors(self) -> set[str]:
        return {g.group_id for g in self.state.groups.values() if g.errors}

    def members_in_error(self, group_id: str) -> set[str]:
        return set(self.state.groups[group_id].errors)

    def rejections(self, outputs: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        source = self.outputs if outputs is None else outputs
        return [o["data"] for o in source if o["type"] == "CommandRejected"]

    def of_type(self, event_type: str, outputs: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        source = self.last if outputs is None else outputs
        return [o["data"] for o in source if o["type"] == event_type]

    def detail(self, user_id: str, short: str, source: str = "direct") -> dict[str, Any]:
        entry = self.entry(user_id, short, source)
        assert entry is not None and entry.detail is not None
        return entry.detail

    def _names(self, mask: int) -> set[str]:
        catalog = self.state.catalog
        return {catalog.plan_name(bit) for bit in range(mask.bit_length()) if mask >> bit & 1}


def _licenses(licenses: list[License]) -> list[dict[str, Any]]:
    result = []
    for lic in licenses:
        short, disabled = (lic, []) if isinstance(lic, str) else lic
        result.append({"skuId": SHORT[short], "disabledPlans": list(disabled)})
    return result


def _skus(shorts: list[str]) -> list[str]:
    return [SHORT[s] for s in shorts]


def pair_names(detail: dict[str, Any]) -> set[frozenset[str]]:
    return {frozenset({p["plan"]["servicePlanName"], p["conflictsWith"]["servicePlanName"]}) for p in detail["pairs"]}
