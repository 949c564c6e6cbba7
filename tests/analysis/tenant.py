"""A tenant built event by event into a real embedded store, for the analyst tools' tests: fixture F0 (SPEC §3.4)
and one method per input event, in the words of the SPEC scenarios (tests/dsl.py does the same in memory)."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document
from tests.dsl import CATALOG_DATA, SHORT, License, all_plans_except, cloud_event, license_changes

SKU_ID = {sku["short"]: sku["skuId"] for sku in CATALOG_DATA["skus"]}
PLAN_ID = {p["servicePlanName"]: p["servicePlanId"] for sku in CATALOG_DATA["skus"] for p in sku["servicePlans"]}
NAMES = {user["id"]: user["name"] for user in CATALOG_DATA["demoFixtureF0"]["users"]}

__all__ = ["LoggedTenant", "PLAN_ID", "SKU_ID", "all_plans_except", "cloud_event"]


@contextmanager
def store_of(stream: list[dict[str, Any]]) -> Iterator[tuple[sqlite3.Connection, EmbeddedRuntime]]:
    """A store in a temporary folder with `stream` ingested (inline), for the property tests; closed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = open_database(Path(tmp) / "p.db")
        runtime = EmbeddedRuntime(conn)
        runtime.ingest((("p", json.dumps(e).encode()) for e in stream), writer="inline")
        try:
            yield conn, runtime
        finally:
            conn.close()


class LoggedTenant:
    """Events are ingested as they are sent (`pending` ones with `hold()`), through the real embedded runtime."""

    def __init__(self, path: Path, f0: bool = True, tenant_id: str = "contoso", **config: Any) -> None:
        self.path = path
        self.tenant_id = tenant_id
        self.conn: sqlite3.Connection = open_database(path)
        self.runtime = EmbeddedRuntime(self.conn)
        self.events: list[dict[str, Any]] = []
        self.held: list[dict[str, Any]] | None = None
        if not f0:
            return
        self.send("TenantConfigured", countryLetterCode=config.pop("country", "US"), **config)
        for short, seats in CATALOG_DATA["demoFixtureF0"]["capacity"].items():
            self.capacity(short, seats)
        for user in CATALOG_DATA["demoFixtureF0"]["users"]:
            data: dict[str, Any] = {
                "userId": user["id"],
                "displayName": user["name"],
                "userPrincipalName": f"{user['name'].lower()}@contoso.com",
                "proxyAddresses": [f"SMTP:{user['name'].lower()}@contoso.com"],
            }
            if user["usageLocation"]:
                data["usageLocation"] = user["usageLocation"]
            self.send("UserCreated", **data)

    # ---- events ---------------------------------------------------------------------------------------------

    def send(self, event_type: str, **data: Any) -> dict[str, Any]:
        event = cloud_event(self.tenant_id, len(self.events) + 1, event_type, data)
        self.events.append(event)
        if self.held is not None:
            self.held.append(event)
        else:
            self.ingest([event])
        return event

    def hold(self) -> None:
        """Events sent from now on are only recorded (`release()` returns them), not ingested."""
        self.held = []

    def release(self) -> list[dict[str, Any]]:
        held, self.held = self.held or [], None
        return held

    def ingest(self, events: list[dict[str, Any]]) -> None:
        lines = [(f"test:{n}", json.dumps(e).encode()) for n, e in enumerate(events, 1)]
        self.runtime.ingest(lines, writer="inline")

    def capacity(self, short: str, enabled: int) -> None:
        self.send("SubscriptionChanged", skuId=SHORT[short], prepaidUnits={"enabled": enabled})

    def group(self, group_id: str, *licenses: License, name: str | None = None) -> None:
        self.send("GroupCreated", groupId=group_id, displayName=name or group_id)
        if licenses:
            self.assign(group_id, add=list(licenses))

    def assign(self, group_id: str, add: list[License] = [], remove: list[str] = []) -> None:
        self.send("GroupLicensesChanged", groupId=group_id, **license_changes(add, remove))

    def direct(self, user_id: str, add: list[License] = [], remove: list[str] = []) -> None:
        self.send("UserLicensesChanged", userId=user_id, **license_changes(add, remove))

    def add(self, group_id: str, *members: str) -> None:
        for member in members:
            self.send("GroupMemberAdded", groupId=group_id, memberId=member)

    def remove(self, group_id: str, *members: str) -> None:
        for member in members:
            self.send("GroupMemberRemoved", groupId=group_id, memberId=member)

    def update_user(self, user_id: str, **fields: Any) -> None:
        self.send("UserUpdated", userId=user_id, **fields)

    def reprocess_user(self, user_id: str) -> None:
        self.send("LicenseReprocessRequested", userId=user_id)

    def reprocess_group(self, group_id: str) -> None:
        self.send("LicenseReprocessRequested", groupId=group_id)

    # ---- then -----------------------------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        return tenant_document(self.conn, self.tenant_id)

    def entry_states(self) -> dict[tuple[str, str, str | None], tuple[str, str]]:
        """(userId, skuPartNumber, assignedByGroup) -> (state, error) of every entry, from the export."""
        return {
            (user["id"], state["skuPartNumber"], state["assignedByGroup"]): (state["state"], state["error"])
            for user in self.export()["users"]
            for state in user["licenseAssignmentStates"]
        }

    def errors(self) -> set[tuple[str, str, str | None]]:
        return {key for key, (state, _) in self.entry_states().items() if state in ("Error", "ActiveWithError")}


# ---- situations shared by several tools' tests ------------------------------------------------------------------


def with_problems(path: Path) -> LoggedTenant:
    """F0 with a clash (Alice), a seat shortage (Erin) and a stuck licence (Dave), all in group 'E3 users'."""
    t = LoggedTenant(path)
    t.direct("u1", add=["E1"])
    t.capacity("E3", 2)
    t.group("G_E3", "E3", name="E3 users")
    t.add("G_E3", "u1", "u2", "u4", "u5")
    t.direct("u4", add=["AC"])
    t.remove("G_E3", "u4")
    return t


def s41_shared_address(t: LoggedTenant) -> str:
    """SPEC S41: Bob (E3 directly) and Dave both list smtp:sales@contoso.com, then Dave joins G_E3 (E3) and his
    licence fails on the duplicate address. Returns the id of the event that gave Dave the address."""
    t.direct("u2", add=["E3"])
    t.update_user("u2", proxyAddresses=["SMTP:bob@contoso.com", "smtp:sales@contoso.com"])
    t.update_user("u4", proxyAddresses=["SMTP:dave@contoso.com", "smtp:sales@contoso.com"])
    shared: str = t.events[-1]["id"]
    t.group("G_E3", "E3")
    t.add("G_E3", "u4")
    return shared
