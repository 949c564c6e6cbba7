"""fix-plan: the change that clears each error, chosen by the stated policy; after its events are ingested, every
error it claims to fix is gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings

from processor.analysis.fixplan import fix_plan
from processor.demo.generator import generate_demo_events
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document
from tests.analysis.tenant import SKU_ID, LoggedTenant, s41_shared_address, store_of
from tests.properties.test_properties import PROPERTY_SETTINGS, streams

WHEN = "2026-02-01T09:00:00Z"


def apply(t: LoggedTenant, plan: dict[str, Any]) -> None:
    t.ingest(plan["events"])


def actions(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return [(step["problem"]["error"], step["action"]) for step in plan["steps"]]


def claims(plan: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {(f["userId"], f["skuPartNumber"], f["assignedByGroup"]) for f in plan["fixes"]}


def test_s06_seats_are_bought_for_the_waiting_users_then_they_are_reprocessed_oldest_first(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1", "u2", "u3", "u4", "u5")

    plan = fix_plan(t.conn, "contoso", WHEN)

    assert actions(plan) == [("CountViolation", "buy 2 ENTERPRISEPACK seats (3 -> 5)")]
    assert plan["seatsToBuy"] == [{"skuPartNumber": "ENTERPRISEPACK", "seats": 2}]
    assert [(e["type"], e["data"]) for e in plan["events"]] == [
        (
            "SubscriptionChanged",
            {"skuId": SKU_ID["E3"], "prepaidUnits": {"enabled": 5, "warning": 0, "suspended": 0, "lockedOut": 0}},
        ),
        ("LicenseReprocessRequested", {"userId": "u4"}),
        ("LicenseReprocessRequested", {"userId": "u5"}),
    ]
    assert all(e["time"] == WHEN and e["source"] == "/fix-plan" for e in plan["events"])
    apply(t, plan)
    assert t.errors() == set() and claims(plan) == {("u4", "ENTERPRISEPACK", "G_E3"), ("u5", "ENTERPRISEPACK", "G_E3")}


def test_s16_the_clash_is_fixed_by_switching_plans_off_in_the_direct_licence_rather_than_removing_it(
    tmp_path: Path,
) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.direct("u1", add=["E1"])
    t.group("G_E3", "E3")
    t.add("G_E3", "u1", "u2")

    plan = fix_plan(t.conn, "contoso", WHEN)

    (step,) = plan["steps"]
    assert step["action"] == "switch off EXCHANGE_S_STANDARD, SHAREPOINTSTANDARD in the direct STANDARDPACK of Alice"
    assert step["cost"] == {
        "seatsBought": 0,
        "licencesRemoved": 0,
        "plansSwitchedOff": 2,
        "otherUsersChanged": 0,
        "commands": 1,
    }
    alternatives = {a["action"]: a["cost"] for a in step["alternatives"]}
    assert alternatives["remove the direct STANDARDPACK of Alice"]["licencesRemoved"] == 1
    group_wide = next(c for a, c in alternatives.items() if "of group 'G_E3'" in a)
    assert group_wide["otherUsersChanged"] == 1  # u2 would lose SharePoint Plan 2 and Exchange Plan 2
    apply(t, plan)
    states = t.entry_states()
    assert states[("u1", "ENTERPRISEPACK", "G_E3")] == ("Active", "None")
    assert states[("u1", "STANDARDPACK", None)] == ("Active", "None")


def test_s31_a_stuck_licence_is_released_by_giving_the_prerequisite_through_the_seat_already_held(
    tmp_path: Path,
) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1")
    t.direct("u1", add=["AC"])
    t.remove("G_E3", "u1")

    plan = fix_plan(t.conn, "contoso", WHEN)

    assert actions(plan) == [
        ("DependencyViolation", "give Alice MCOSTANDARD through a direct ENTERPRISEPACK with only MCOSTANDARD on")
    ]
    apply(t, plan)
    states = t.entry_states()
    assert ("u1", "ENTERPRISEPACK", "G_E3") not in states  # the withdrawal went through
    assert states[("u1", "ENTERPRISEPACK", None)] == ("Active", "None")
    assert states[("u1", "MCOMEETADV", None)] == ("Active", "None")


def test_when_the_cheapest_fix_is_rejected_the_next_one_is_taken(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1")
    t.direct("u1", add=["AC"])
    t.update_user("u1", usageLocation=None)  # a direct licence can no longer be added for Alice
    t.remove("G_E3", "u1")

    plan = fix_plan(t.conn, "contoso", WHEN)

    (step,) = plan["steps"]
    assert step["action"] == "remove the direct MCOMEETADV of Alice (the plan that needs the prerequisite)"
    rejected = [
        a for a in step["alternatives"] if a["whyNot"] and a["whyNot"].startswith("rejected: InvalidUsageLocation")
    ]
    assert len(rejected) == 2  # a direct ENTERPRISEPACK or STANDARDPACK for MCOSTANDARD
    apply(t, plan)
    assert t.errors() == set()


def test_s37_a_location_error_is_fixed_by_a_location_where_the_plan_is_offered(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_CALL", "CALL")
    t.add("G_CALL", "u1", "u5")

    plan = fix_plan(t.conn, "contoso", WHEN)

    assert [e["data"] for e in plan["events"]][0] == {"userId": "u5", "usageLocation": "US"}
    (step,) = plan["steps"]
    assert step["action"].startswith("set the usage location of Erin to US (MCOPSTN1 is offered there; today IN")
    apply(t, plan)
    assert t.errors() == set()


def test_s41_a_duplicate_address_is_removed_from_the_user_in_error(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    s41_shared_address(t)  # Bob and Dave both list smtp:sales@contoso.com; Dave's E3 fails on it

    plan = fix_plan(t.conn, "contoso", WHEN)

    assert actions(plan) == [("UniquenessViolation", "remove smtp:sales@contoso.com from the proxy addresses of Dave")]
    assert plan["events"][0]["data"] == {"userId": "u4", "proxyAddresses": ["SMTP:dave@contoso.com"]}
    apply(t, plan)
    assert t.errors() == set()


def test_s11_the_sibling_in_other_clears_with_the_seat_bought_for_the_failing_product(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.capacity("EMS", 1)
    t.group("G_E3EMS", "E3", "EMS")
    t.add("G_E3EMS", "u1", "u2")

    plan = fix_plan(t.conn, "contoso", WHEN)

    assert actions(plan) == [("CountViolation", "buy 1 EMS seat (1 -> 2)")]
    assert claims(plan) == {("u2", "EMS", "G_E3EMS"), ("u2", "ENTERPRISEPACK", "G_E3EMS")}
    assert plan["unfixed"] == []
    apply(t, plan)
    assert t.errors() == set()


def test_a_soft_deleted_users_error_is_left_alone_and_no_seat_is_bought_for_it(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1", "u2", "u3", "u4", "u5")
    t.send("UserDeleted", userId="u5")

    plan = fix_plan(t.conn, "contoso", WHEN)

    assert plan["seatsToBuy"] == [{"skuPartNumber": "ENTERPRISEPACK", "seats": 1}]
    (left,) = plan["unfixed"]
    assert (left["userId"], left["error"], left["whyNot"]) == ("u5", "CountViolation", "no candidate fix qualified")
    assert {t["whyNot"] for t in left["tried"]} == {"the CountViolation stays"}
    apply(t, plan)
    assert t.errors() == {("u5", "ENTERPRISEPACK", "G_E3")}


def test_the_demo_tenant_every_claimed_fix_holds_after_ingesting_the_plan(tmp_path: Path) -> None:
    events = generate_demo_events(seed=3, users=200)
    conn = open_database(tmp_path / "demo.db")
    runtime = EmbeddedRuntime(conn)
    runtime.ingest(((f"demo:{n}", json.dumps(e).encode()) for n, e in enumerate(events)), writer="inline")
    plan = fix_plan(conn, "contoso", WHEN)
    assert plan["errorsBefore"] > 10 and plan["fixes"]
    runtime.ingest(((f"fix:{n}", json.dumps(e).encode()) for n, e in enumerate(plan["events"])), writer="inline")
    assert_claims_hold(conn, plan)
    assert sum(1 for _ in in_error(tenant_document(conn, "contoso"))) == plan["errorsAfter"]


def in_error(document: dict[str, Any]) -> Any:
    for user in document["users"]:
        for s in user["licenseAssignmentStates"]:
            if s["state"] in ("Error", "ActiveWithError"):
                yield user["id"], s["skuId"], s["assignedByGroup"]


def assert_claims_hold(conn: Any, plan: dict[str, Any]) -> None:
    still = set(in_error(tenant_document(conn, plan["tenant"])))
    for fixed in plan["fixes"]:
        assert (fixed["userId"], fixed["skuId"], fixed["assignedByGroup"]) not in still, fixed
    assert {(u["userId"], u["skuId"], u["assignedByGroup"]) for u in plan["unfixed"]} == still


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(streams(max_tenants=1))
def test_after_a_plan_is_ingested_every_error_it_claims_to_fix_is_gone(stream: list[dict[str, Any]]) -> None:
    with store_of(stream) as (conn, runtime):
        plan = fix_plan(conn, stream[0]["tenant"], WHEN)
        runtime.ingest((("fix", json.dumps(e).encode()) for e in plan["events"]), writer="inline")
        assert_claims_hold(conn, plan)
