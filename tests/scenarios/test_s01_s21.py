"""SPEC §4 scenarios S01–S21: basic assignment/removal, seat counting, conflicting service plans.

Every test starts from fixture F0 (SPEC §3.4) and reads as given / when / then.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.dsl import CATALOG_DATA, PLANS_OF, SHORT, Scenario, all_plans_except, pair_names

SYSTEM = "Microsoft Azure AD Group-Based Licensing"
SET = "Set group license"
START_AUDIT = "Start applying group based license to users"
FINISH = "Finish applying group based license to users"
CHANGE = "Change user license"
QUEUED, IN_PROGRESS, COMPLETE = "QueuedForProcessing", "ProcessingInProgress", "ProcessingComplete"

ACTIVE = ("Active", "None")
COUNT = ("Error", "CountViolation")
OTHER = ("Error", "Other")
EXCLUSIVE = ("Error", "MutuallyExclusiveViolation")

PLAN_ID = {p["servicePlanName"]: p["servicePlanId"] for sku in CATALOG_DATA["skus"] for p in sku["servicePlans"]}
SHAREPOINT_PAIR = frozenset({"SHAREPOINTENTERPRISE", "SHAREPOINTSTANDARD"})
EXCHANGE_PAIR = frozenset({"EXCHANGE_S_ENTERPRISE", "EXCHANGE_S_STANDARD"})


# ---- local helpers ----------------------------------------------------------------------------------------------


class Tenant(Scenario):
    """F0 tenant whose next input can be published by a named actor (CloudEvents `source` = audit actor)."""

    def add_at(self, group_id: str, member: str, at: str) -> None:
        self.send("GroupMemberAdded", at=at, groupId=group_id, memberId=member)


def trace(outputs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Processing-state transitions and audit activities, in emission order."""
    steps = []
    for o in outputs:
        if o["type"] == "GroupLicenseProcessingChanged":
            steps.append(("state", o["data"]["state"]))
        elif o["type"] == "AuditRecorded":
            steps.append(("audit", o["data"]["activity"]))
    return steps


def audits(s: Scenario, activity: str) -> list[dict[str, Any]]:
    return [a for a in s.of_type("AuditRecorded") if a["activity"] == activity]


def finish_result(s: Scenario) -> str:
    (finish,) = audits(s, FINISH)
    return finish["result"]


def completed(s: Scenario) -> tuple[int, int]:
    """(succeeded, failed) of the ProcessingComplete transition of the last event."""
    (done,) = [p for p in s.of_type("GroupLicenseProcessingChanged") if p["state"] == COMPLETE]
    return done["succeeded"], done["failed"]


def types(s: Scenario) -> list[str]:
    return [o["type"] for o in s.last]


def changed_users(s: Scenario) -> set[str]:
    return {c["userId"] for c in s.of_type("LicenseAssignmentStateChanged")}


def admin_center_status(s: Scenario, group_id: str) -> str:
    """Microsoft 365 admin-center status per group (SPEC §1.9)."""
    group = s.state.groups[group_id]
    if group.errors:
        return "Errors & issues"
    return "All licenses assigned" if group.processing_state == COMPLETE else "In progress"


def s01_given(**kwargs: Any) -> Tenant:
    s = Tenant(**kwargs)
    s.group("G_E3")
    s.add("G_E3", "u1", "u2")
    e3 = [{"skuId": SHORT["E3"], "disabledPlans": []}]
    s.send("GroupLicensesChanged", source="adm", groupId="G_E3", addLicenses=e3)
    return s


def s06_given(mode: str = "faithful") -> Tenant:
    s = Tenant(mode=mode)
    s.group("G_E3", "E3")
    s.add("G_E3", "u1", "u2", "u3", "u4", "u5")
    return s


def s16_given(mode: str = "faithful") -> Tenant:
    s = Tenant(mode=mode)
    s.direct("u1", add=["E1"])
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    return s


# ---- A. Basic assignment and removal ----------------------------------------------------------------------------


def test_s01_licences_flow_to_existing_members():
    # given
    s = Tenant()
    s.group("G_E3")
    s.add("G_E3", "u1", "u2")
    # when
    e3 = [{"skuId": SHORT["E3"], "disabledPlans": []}]
    s.send("GroupLicensesChanged", source="adm", groupId="G_E3", addLicenses=e3)
    # then
    for user in ("u1", "u2"):
        assert s.entries(user) == {("E3", "G_E3"): ACTIVE}
        assert s.entry(user, "E3", "G_E3").group_id == "G_E3"
        assert s.disabled(user, "E3", "G_E3") == set()
    assert s.usage("E3") == (2, 1)
    assert s.state.groups["G_E3"].processing_state == COMPLETE
    assert s.groups_with_errors() == set()
    assert audits(s, SET)[0]["actor"] == "adm"
    assert completed(s) == (2, 0)
    assert finish_result(s) == "Users successfully assigned licenses: 2, Users for whom license assignment failed: 0."
    assert trace(s.last) == [
        ("audit", SET),
        ("state", QUEUED),
        ("state", IN_PROGRESS),
        ("audit", START_AUDIT),
        ("audit", CHANGE),
        ("audit", CHANGE),
        ("state", COMPLETE),
        ("audit", FINISH),
    ]
    assert [a["actor"] for a in audits(s, CHANGE)] == [SYSTEM, SYSTEM]


def test_s02_new_member_is_licensed_automatically():
    # given
    s = s01_given()
    # when
    s.add("G_E3", "u4")
    # then
    assert s.status("u4", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (3, 0)
    assert s.of_type("GroupLicenseProcessingChanged") == []
    assert trace(s.last) == [("audit", CHANGE)]
    assert audits(s, CHANGE)[0]["actor"] == SYSTEM


def test_s03_leaving_member_loses_licence_data_preserving():
    # given
    s = s01_given()
    s.add("G_E3", "u4")
    # when
    s.remove("G_E3", "u2")
    # then
    assert s.entries("u2") == {}
    assert s.effective_disabled("u2", "E3") is None  # assignedLicenses of u2 empty
    assert s.suspended("u2") == set(PLANS_OF["E3"])
    assert s.usage("E3") == (2, 1)


def _location_trace(outputs: list[dict[str, Any]]) -> list[Any]:
    """Values of every `*location*` field (other than the profile's usageLocation) in the outputs."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if "location" in key.lower() and key != "usageLocation" and not isinstance(value, (dict, list)):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk([o["data"] for o in outputs if o["type"] == "LicenseAssignmentStateChanged"])
    return found


def test_s04_missing_usage_location_falls_back_to_tenant_country():
    # given
    s = Tenant()
    s.group("G_E3", "E3")
    # when
    s.add("G_E3", "u3")
    # then
    assert s.status("u3", "E3", "G_E3") == ACTIVE
    assert s.state.users["u3"].usage_location is None
    assert "US" in _location_trace(s.last), "evaluation trace must record the effective location US"


def test_s05_direct_assignment_without_usage_location_is_refused():
    # given
    s = Tenant()
    # when
    s.direct("u3", add=["E3"])
    # then
    assert types(s) == ["CommandRejected"]
    (rejection,) = s.rejections(s.last)
    assert rejection["error"] == "InvalidUsageLocation"
    assert rejection["message"] == "License assignment cannot be done for user with invalid usage location."
    assert s.entries("u3") == {}
    assert s.usage("E3") == (0, 3)


# ---- B. Seat counting -------------------------------------------------------------------------------------------


def test_s06_more_members_than_seats():
    # given / when
    s = s06_given()
    # then
    for user in ("u1", "u2", "u3"):
        assert s.entries(user) == {("E3", "G_E3"): ACTIVE}
    for user in ("u4", "u5"):
        assert s.entries(user) == {("E3", "G_E3"): COUNT}  # u5 (IN): E3 has no location rule
    assert s.usage("E3") == (3, 0)
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u4", "u5"}
    assert admin_center_status(s, "G_E3") == "Errors & issues"


def _s07_given(mode: str) -> Tenant:
    s = Tenant(mode=mode)
    s.direct("u6", add=["E3"])
    s.group("G_E3", "E3")
    s.add("G_E3", "u1", "u2", "u3")
    assert s.status("u6", "E3") == ACTIVE
    assert s.status("u3", "E3", "G_E3") == COUNT
    assert s.usage("E3") == (3, 0)
    return s


def test_s07_freeing_a_seat_does_not_heal_by_itself_faithful():
    # given
    s = _s07_given("faithful")
    # when
    s.direct("u6", remove=["E3"])
    # then
    assert s.rejections(s.last) == []
    assert s.entries("u6") == {}
    assert s.usage("E3") == (2, 1)
    assert s.status("u3", "E3", "G_E3") == COUNT
    assert "u3" not in changed_users(s)
    # when
    s.reprocess_group("G_E3")
    # then
    assert s.status("u3", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (3, 0)
    assert s.groups_with_errors() == set()
    assert completed(s) == (3, 0)
    assert finish_result(s) == "Users successfully assigned licenses: 3, Users for whom license assignment failed: 0."


def test_s07_freeing_a_seat_heals_oldest_waiter_improved():
    # given
    s = _s07_given("improved")
    # when
    s.direct("u6", remove=["E3"])
    # then
    assert s.rejections(s.last) == []
    assert s.entries("u6") == {}
    assert s.status("u3", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (3, 0)
    assert s.groups_with_errors() == set()


def test_s08_buying_seats_does_not_heal_by_itself_faithful():
    # given
    s = s06_given()
    # when
    s.capacity("E3", 5)
    # then
    assert types(s) == ["ProductUsageChanged"]
    assert s.status("u4", "E3", "G_E3") == COUNT
    assert s.status("u5", "E3", "G_E3") == COUNT
    assert s.usage("E3") == (3, 2)
    # when
    s.reprocess_user("u5")
    # then
    assert s.status("u5", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (4, 1)
    assert s.status("u4", "E3", "G_E3") == COUNT
    assert s.groups_with_errors() == {"G_E3"}


def test_s08_buying_seats_heals_waiters_fifo_improved():
    # given
    s = s06_given("improved")
    # when
    s.capacity("E3", 5)
    # then
    changes = [c["userId"] for c in s.of_type("LicenseAssignmentStateChanged")]
    assert changes == ["u4", "u5"]  # FIFO: u4 first
    assert s.status("u4", "E3", "G_E3") == ACTIVE
    assert s.status("u5", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (5, 0)
    assert s.groups_with_errors() == set()


def test_s09_user_who_already_has_product_needs_no_extra_seat():
    # given
    s = Tenant()
    s.update_user("u3", usageLocation="US")  # a direct licence needs a usage location (SPEC §2.2)
    for user in ("u1", "u2", "u3"):
        s.direct(user, add=["E3"])
        assert s.status(user, "E3") == ACTIVE
    assert s.usage("E3") == (3, 0)
    s.group("G_E3", "E3")
    # when
    s.add("G_E3", "u1")
    # then
    assert s.entries("u1") == {("E3", "direct"): ACTIVE, ("E3", "G_E3"): ACTIVE}
    assert s.usage("E3") == (3, 0)
    assert s.groups_with_errors() == set()


def test_s10_same_product_from_two_groups_one_seat_union_of_plans():
    # given
    s = Tenant()
    s.group("G_A", ("E3", ["YAMMER_ENTERPRISE", "SWAY"]))
    s.group("G_B", ("E3", all_plans_except("E3", "YAMMER_ENTERPRISE")))
    # when
    s.add("G_A", "u1")
    s.add("G_B", "u1")
    # then
    assert s.entries("u1") == {("E3", "G_A"): ACTIVE, ("E3", "G_B"): ACTIVE}
    assert s.disabled("u1", "E3", "G_A") == {"YAMMER_ENTERPRISE", "SWAY"}
    assert s.disabled("u1", "E3", "G_B") == set(PLANS_OF["E3"]) - {"YAMMER_ENTERPRISE"}
    assert len(s.disabled("u1", "E3", "G_B")) == 15
    assert s.effective_disabled("u1", "E3") == {"SWAY"}
    assert s.usage("E3") == (1, 2)


def test_s11_multi_product_group_is_all_or_nothing_per_user():
    # given
    s = Tenant()
    s.capacity("EMS", 1)
    s.group("G_E3EMS", "E3", "EMS")
    # when
    s.add("G_E3EMS", "u1", "u2")
    # then
    assert s.entries("u1") == {("E3", "G_E3EMS"): ACTIVE, ("EMS", "G_E3EMS"): ACTIVE}
    assert s.entries("u2") == {("E3", "G_E3EMS"): OTHER, ("EMS", "G_E3EMS"): COUNT}
    assert s.usage("E3") == (1, 2)
    assert s.usage("EMS") == (1, 0)
    assert s.groups_with_errors() == {"G_E3EMS"}
    assert s.members_in_error("G_E3EMS") == {"u2"}


def test_s12_multi_product_group_where_user_already_holds_one_product():
    # given
    s = Tenant()
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    s.capacity("EMS", 0)
    s.group("G_E3EMS", "E3", "EMS")
    # when
    s.add("G_E3EMS", "u1")
    # then
    assert s.entries("u1") == {
        ("E3", "G_E3"): ACTIVE,
        ("E3", "G_E3EMS"): OTHER,
        ("EMS", "G_E3EMS"): COUNT,
    }
    assert s.usage("E3") == (1, 2)
    assert s.usage("EMS") == (0, 0)


def test_s13_members_leave_while_in_error():
    # given
    s = s06_given()
    # when
    s.remove("G_E3", "u5")
    # then
    assert s.entries("u5") == {}
    assert s.usage("E3") == (3, 0)
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u4"}
    assert s.of_type("GroupErrorStatusChanged") == []
    # when
    s.remove("G_E3", "u4")
    # then
    assert s.entries("u4") == {}
    assert s.groups_with_errors() == set()
    assert [(g["groupId"], g["hasMembersWithLicenseErrors"]) for g in s.of_type("GroupErrorStatusChanged")] == [
        ("G_E3", False)
    ]


def test_s14_reprocess_heals_only_as_far_as_seats_allow_in_order():
    # given
    s = s06_given()
    s.capacity("E3", 4)
    # when
    s.reprocess_group("G_E3")
    # then
    assert s.status("u4", "E3", "G_E3") == ACTIVE
    assert s.status("u5", "E3", "G_E3") == COUNT
    assert s.usage("E3") == (4, 0)
    assert completed(s) == (4, 1)
    assert finish_result(s) == "Users successfully assigned licenses: 4, Users for whom license assignment failed: 1."


def _s15_given(mode: str) -> Tenant:
    s = Tenant(mode=mode)
    s.capacity("E3", 2)
    s.group("G_A", "E3")
    s.group("G_B", "E3")
    s.add("G_A", "u1")
    s.add("G_B", "u2")
    s.add_at("G_B", "u4", "2026-01-05T09:00:00Z")
    s.add_at("G_A", "u3", "2026-01-05T10:00:00Z")
    assert s.status("u1", "E3", "G_A") == ACTIVE and s.status("u2", "E3", "G_B") == ACTIVE
    assert s.status("u3", "E3", "G_A") == COUNT and s.status("u4", "E3", "G_B") == COUNT
    assert s.usage("E3") == (2, 0)
    return s


def test_s15_scarce_seat_after_departure_reprocessed_group_wins_faithful():
    # given
    s = _s15_given("faithful")
    # when
    s.remove("G_A", "u1")
    # then
    assert s.entries("u1") == {}
    assert s.usage("E3") == (1, 1)
    assert s.status("u3", "E3", "G_A") == COUNT
    assert s.status("u4", "E3", "G_B") == COUNT
    # when
    s.reprocess_group("G_A")
    # then
    assert s.status("u3", "E3", "G_A") == ACTIVE  # even though u4 waited longer
    assert s.status("u4", "E3", "G_B") == COUNT
    assert s.usage("E3") == (2, 0)


def test_s15_scarce_seat_after_departure_oldest_error_wins_improved():
    # given
    s = _s15_given("improved")
    # when
    s.remove("G_A", "u1")
    # then
    assert s.entries("u1") == {}
    assert s.status("u4", "E3", "G_B") == ACTIVE  # older error (09:00)
    assert s.status("u3", "E3", "G_A") == COUNT
    assert s.usage("E3") == (2, 0)


# ---- C. Conflicting service plans -------------------------------------------------------------------------------


def test_s16_direct_e1_blocks_group_e3():
    # given
    s = Tenant()
    s.direct("u1", add=["E1"])
    assert s.usage("E1") == (1, 9)
    s.group("G_E3", "E3")
    # when
    s.add("G_E3", "u1")
    # then
    assert s.status("u1", "E3", "G_E3") == EXCLUSIVE
    assert pair_names(s.detail("u1", "E3", "G_E3")) == {SHAREPOINT_PAIR, EXCHANGE_PAIR}
    assert s.status("u1", "E1") == ACTIVE
    assert s.disabled("u1", "E1") == set()
    assert s.usage("E1") == (1, 9)
    assert s.usage("E3") == (0, 3)
    assert s.groups_with_errors() == {"G_E3"}


def test_s17_disable_clashing_plans_in_the_group():
    # given
    s = s16_given()
    s.add("G_E3", "u2")
    assert s.status("u2", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (1, 2)
    # when
    s.assign("G_E3", add=[("E3", ["SHAREPOINTENTERPRISE", "EXCHANGE_S_ENTERPRISE"])])
    # then
    assert s.status("u2", "E3", "G_E3") == ACTIVE  # narrowed, no dependency broken
    assert s.disabled("u2", "E3", "G_E3") == {"SHAREPOINTENTERPRISE", "EXCHANGE_S_ENTERPRISE"}
    assert s.suspended("u2") == {"SHAREPOINTENTERPRISE", "EXCHANGE_S_ENTERPRISE"}
    assert s.status("u1", "E3", "G_E3") == ACTIVE
    assert s.disabled("u1", "E3", "G_E3") == {"SHAREPOINTENTERPRISE", "EXCHANGE_S_ENTERPRISE"}
    assert s.usage("E3") == (2, 1)
    assert s.groups_with_errors() == set()


def test_s18_remove_direct_e1_needs_reprocess_faithful():
    # given
    s = s16_given()
    # when
    s.direct("u1", remove=["E1"])
    # then
    assert s.rejections(s.last) == []
    assert s.status("u1", "E1") is None
    assert s.usage("E1") == (0, 10)
    assert s.status("u1", "E3", "G_E3") == EXCLUSIVE
    # when
    s.reprocess_user("u1")
    # then
    assert s.status("u1", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()


def test_s18_remove_direct_e1_heals_immediately_improved():
    # given
    s = s16_given("improved")
    # when
    s.direct("u1", remove=["E1"])
    # then
    assert s.rejections(s.last) == []
    assert s.status("u1", "E1") is None
    assert s.usage("E1") == (0, 10)
    assert s.status("u1", "E3", "G_E3") == ACTIVE
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()


def test_s19_leaving_the_clashing_group_heals_automatically():
    # given
    s = Tenant()
    s.group("G_K", "E1")
    s.group("G_HR", "E3")
    s.add("G_K", "u1")
    assert s.status("u1", "E1", "G_K") == ACTIVE
    s.add("G_HR", "u1")
    assert s.status("u1", "E3", "G_HR") == EXCLUSIVE
    # when
    s.remove("G_K", "u1")
    # then: one evaluation withdraws E1 (phase 1) and retries the HR bundle (phase 3)
    assert s.entries("u1") == {("E3", "G_HR"): ACTIVE}
    assert {(c["skuPartNumber"], c["state"]) for c in s.of_type("LicenseAssignmentStateChanged")} == {
        ("STANDARDPACK", None),
        ("ENTERPRISEPACK", "Active"),
    }
    assert s.usage("E1") == (0, 10)
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()


@pytest.mark.parametrize(("first", "second"), [("E1", "E3"), ("E3", "E1")], ids=["E1-first", "E3-first"])
def test_s20_conflicting_groups_first_evaluated_wins(first: str, second: str):
    # given
    s = Tenant()
    s.group("G_E1", "E1")
    s.group("G_E3", "E3")
    # when
    s.add(f"G_{first}", "u1")
    s.add(f"G_{second}", "u1")
    # then
    assert s.entries("u1") == {(first, f"G_{first}"): ACTIVE, (second, f"G_{second}"): EXCLUSIVE}
    assert s.usage(first)[0] == 1
    assert s.usage(second)[0] == 0
    assert s.groups_with_errors() == {f"G_{second}"}


def test_s21_direct_assignment_clashing_with_inherited_licence_is_refused():
    # given
    s = Tenant()
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    assert s.status("u1", "E3", "G_E3") == ACTIVE
    # when
    s.direct("u1", add=["E1"])
    # then
    assert types(s) == ["CommandRejected"]
    (rejection,) = s.rejections(s.last)
    assert rejection["error"] == "MutuallyExclusiveViolation"
    assert pair_names(rejection["detail"]) == {SHAREPOINT_PAIR, EXCHANGE_PAIR}
    match = re.fullmatch(
        r"License assignment failed because service plans \[(.+)\], \[(.+)\] are mutually exclusive\.",
        rejection["message"],
    )
    assert match is not None
    named = {name for name, guid in PLAN_ID.items() if guid in match.groups()}
    assert frozenset(named) in {SHAREPOINT_PAIR, EXCHANGE_PAIR}
    assert s.status("u1", "E1") is None
    assert s.entries("u1") == {("E3", "G_E3"): ACTIVE}
    assert s.usage("E1") == (0, 10)
