"""SPEC §4 scenarios S43–S63: disabled plans, direct + inherited, catalogue changes, audit (G); group kinds,
nesting, dynamic membership, deletion (H); subscription lifecycle (I); reprocess, idempotency, ordering (J);
user lifecycle (K). Every test starts from fixture F0 (SPEC §3.4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from processor.demo.labels import ISSUE_LABELS
from tests.dsl import PLANS_OF, Scenario, all_plans_except

E3_PLANS = set(PLANS_OF["E3"])
SYSTEM = "Microsoft Azure AD Group-Based Licensing"
START_ACTIVITY = "Start applying group based license to users"
FINISH_ACTIVITY = "Finish applying group based license to users"
SWAY_ID = "a23b959c-7ce8-4e57-9140-b90eb88a9e97"
VIVA_ID = "a82fbf69-b4d7-49f4-83a6-915b2cf354f4"


# ---- local helpers ------------------------------------------------------------------------------------------


def audits(s: Scenario, activity: str, outputs: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [a for a in s.of_type("AuditRecorded", outputs) if a["activity"] == activity]


def processing(s: Scenario, group_id: str, outputs: list[dict[str, Any]] | None = None) -> list[tuple[str, int, int]]:
    return [
        (p["state"], p["succeeded"], p["failed"])
        for p in s.of_type("GroupLicenseProcessingChanged", outputs)
        if p["groupId"] == group_id
    ]


def entry_changes(s: Scenario, outputs: list[dict[str, Any]] | None = None) -> list[tuple[str, str, Any, Any]]:
    return [
        (c["userId"], c["skuPartNumber"], c["assignedByGroup"], c["state"])
        for c in s.of_type("LicenseAssignmentStateChanged", outputs)
    ]


def no_licence_output(s: Scenario) -> None:
    """The last event changed no entry, no effective licence and no seat count."""
    for kind in ("LicenseAssignmentStateChanged", "AssignedLicensesChanged", "ProductUsageChanged"):
        assert s.of_type(kind) == [], kind
    assert audits(s, "Change user license") == []


def snapshot(s: Scenario, *users: str) -> dict[str, Any]:
    entries = {u: s.state.users[u].entries.items() for u in users}
    return {u: {k: (e.state, e.error, e.disabled, e.last_updated) for k, e in entries[u]} for u in users}


def e3_group(s: Scenario, group_id: str, *members: str, disabled: list[str] | None = None) -> None:
    s.group(group_id, ("E3", disabled or []))
    s.add(group_id, *members)


# ---- G. Disabled plans, direct + inherited, catalogue changes, audit --------------------------------------------


def test_s43_leaving_one_of_two_same_product_groups_keeps_seat_drops_plans() -> None:
    # given: end of S10
    s = Scenario()
    s.group("G_A", ("E3", ["YAMMER_ENTERPRISE", "SWAY"]))
    s.group("G_B", ("E3", all_plans_except("E3", "YAMMER_ENTERPRISE")))
    s.add("G_A", "u1")
    s.add("G_B", "u1")
    assert s.effective_disabled("u1", "E3") == {"SWAY"}
    assert s.usage("E3") == (1, 2)
    # when
    s.remove("G_A", "u1")
    # then
    assert s.entries("u1") == {("E3", "G_B"): ("Active", "None")}
    assert s.enabled("u1") == {"YAMMER_ENTERPRISE"}
    assert s.effective_disabled("u1", "E3") == E3_PLANS - {"YAMMER_ENTERPRISE"}
    assert s.suspended("u1") == E3_PLANS - {"YAMMER_ENTERPRISE", "SWAY"}  # Sway was never enabled
    assert s.usage("E3") == (1, 2)
    assert entry_changes(s) == [("u1", "ENTERPRISEPACK", "G_A", None)]
    assert s.of_type("ProductUsageChanged") == []


def test_s44_direct_copy_of_inherited_product_adds_plans_for_one_user() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1", disabled=["YAMMER_ENTERPRISE"])
    assert s.effective_disabled("u1", "E3") == {"YAMMER_ENTERPRISE"}
    # when
    s.direct("u1", add=[("E3", all_plans_except("E3", "YAMMER_ENTERPRISE"))])
    # then
    assert s.rejections() == []
    assert s.entries("u1") == {("E3", "direct"): ("Active", "None"), ("E3", "G_E3"): ("Active", "None")}
    assert s.effective_disabled("u1", "E3") == set()
    assert s.enabled("u1") == E3_PLANS
    assert s.usage("E3") == (1, 2)
    assert s.of_type("ProductUsageChanged") == []
    # when
    s.direct("u1", remove=["E3"])
    # then
    assert s.rejections() == []
    assert s.entries("u1") == {("E3", "G_E3"): ("Active", "None")}
    assert s.disabled("u1", "E3", "G_E3") == {"YAMMER_ENTERPRISE"}
    assert s.suspended("u1") == {"YAMMER_ENTERPRISE"}
    assert s.usage("E3") == (1, 2)
    assert s.of_type("ProductUsageChanged") == []


def test_s45_inherited_licence_cannot_be_removed_on_the_user() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1")
    before = snapshot(s, "u1")
    # when
    s.direct("u1", remove=["E3"])
    # then
    [rejection] = s.rejections(s.last)
    assert rejection["error"] == "InheritedLicense"
    assert rejection["message"] == (
        "User license is inherited from a group membership and it cannot be removed directly from the user."
    )
    assert snapshot(s, "u1") == before
    assert s.usage("E3") == (1, 2)
    no_licence_output(s)
    # and an add does not edit the inherited entry: it creates a separate direct entry (S44)
    s.direct("u1", add=[("E3", ["SWAY"])])
    assert s.entries("u1") == {("E3", "direct"): ("Active", "None"), ("E3", "G_E3"): ("Active", "None")}
    assert s.disabled("u1", "E3", "G_E3") == set()
    assert s.disabled("u1", "E3") == {"SWAY"}


def test_s46_group_configuration_change_processing_lifecycle_and_audit() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1", "u2", "u3")
    assert [s.status(u, "E3", "G_E3") for u in ("u1", "u2", "u3")] == [("Active", "None")] * 3
    given_time = {u: s.entry(u, "E3", "G_E3").last_updated for u in ("u1", "u2", "u3")}
    # when (seq 20 of the scenario)
    out = s.send(
        "GroupLicensesChanged",
        source="adm",
        groupId="G_E3",
        addLicenses=[{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY"]}],
        removeLicenses=[],
    )
    t20 = s.events[-1]["time"]
    # then: state
    for u in ("u1", "u2", "u3"):
        assert s.status(u, "E3", "G_E3") == ("Active", "None")
        assert s.disabled(u, "E3", "G_E3") == {"SWAY"}
        assert s.entry(u, "E3", "G_E3").last_updated == t20 != given_time[u]
        assert s.suspended(u) == {"SWAY"}
    assert s.usage("E3") == (3, 0)
    assert s.of_type("ProductUsageChanged") == []
    assert s.groups_with_errors() == set()
    # then: audit Set group license by adm with old/new values
    [set_license] = audits(s, "Set group license")
    assert set_license["actor"] == "adm"
    assert [lic["disabledPlans"] for lic in set_license["oldValue"]] == [[]]
    assert [lic["disabledPlans"] for lic in set_license["newValue"]] == [[SWAY_ID]]
    # then: processing lifecycle and Start/Finish records, in order
    trail = [
        o["data"]["activity"]
        if o["type"] == "AuditRecorded"
        else o["data"]["state"]
        if o["type"] == "GroupLicenseProcessingChanged"
        else "entry"
        for o in out
        if o["type"] in ("AuditRecorded", "GroupLicenseProcessingChanged", "LicenseAssignmentStateChanged")
    ]
    assert [t for t in trail if t != "Change user license"] == [
        "Set group license",
        "QueuedForProcessing",
        "ProcessingInProgress",
        START_ACTIVITY,
        "entry",
        "entry",
        "entry",
        "ProcessingComplete",
        FINISH_ACTIVITY,
    ]
    assert processing(s, "G_E3")[-1] == ("ProcessingComplete", 3, 0)
    [start] = audits(s, START_ACTIVITY)
    [finish] = audits(s, FINISH_ACTIVITY)
    assert start["actor"] == finish["actor"] == SYSTEM
    assert finish["result"] == "Users successfully assigned licenses: 3, Users for whom license assignment failed: 0."
    assert all(c["lastUpdatedDateTime"] == t20 for c in s.of_type("LicenseAssignmentStateChanged"))
    # then: three successful `Change user license` records by the system principal, between Start and Finish
    changes = audits(s, "Change user license")
    assert len(changes) == 3
    assert sorted(c["targetId"] for c in changes) == ["u1", "u2", "u3"]
    assert all(c["actor"] == SYSTEM and "failure" not in json.dumps(c).lower() for c in changes)
    i_start, i_finish = trail.index(START_ACTIVITY), trail.index(FINISH_ACTIVITY)
    assert trail[i_start + 1 : i_finish].count("Change user license") == 3
    # then: the Start record lists the change it picked up (SWAY now disabled)
    assert SWAY_ID in json.dumps(start) or "SWAY" in json.dumps(start)


def test_s47_new_service_plan_added_to_a_product() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1", disabled=["YAMMER_ENTERPRISE"])
    x_disabled = all_plans_except("E3", "EXCHANGE_S_ENTERPRISE")
    e3_group(s, "G_X", "u2", disabled=x_disabled)
    # when
    s.send("ServicePlanAdded", skuId="ENTERPRISEPACK", servicePlanId=VIVA_ID, servicePlanName="VIVAENGAGE_CORE")
    # then
    assert processing(s, "G_E3")[-1][0] == "ProcessingComplete"
    assert processing(s, "G_X")[-1][0] == "ProcessingComplete"
    assert "VIVAENGAGE_CORE" in s.enabled("u1")
    assert s.enabled("u2") == {"EXCHANGE_S_ENTERPRISE", "VIVAENGAGE_CORE"}
    assert s.status("u1", "E3", "G_E3") == s.status("u2", "E3", "G_X") == ("Active", "None")
    assert s.usage("E3") == (2, 1)
    # when
    s.assign("G_X", add=[("E3", x_disabled + ["VIVAENGAGE_CORE"])])
    # then
    assert s.enabled("u2") == {"EXCHANGE_S_ENTERPRISE"}
    assert "VIVAENGAGE_CORE" in s.suspended("u2")
    assert "VIVAENGAGE_CORE" in s.enabled("u1")
    assert [c[0] for c in entry_changes(s)] == ["u2"]
    assert s.usage("E3") == (2, 1)


def test_s48_per_group_summary_with_mixed_outcomes() -> None:
    # given
    s = Scenario()
    s.direct("u1", add=["E1"])
    s.group("G_E3")
    s.add("G_E3", "u1", "u2", "u3", "u4", "u5")
    # when
    s.assign("G_E3", add=["E3"])
    # then
    assert s.status("u1", "E3", "G_E3") == ("Error", "MutuallyExclusiveViolation")
    for u in ("u2", "u3", "u4"):
        assert s.status(u, "E3", "G_E3") == ("Active", "None")
    assert s.status("u5", "E3", "G_E3") == ("Error", "CountViolation")
    assert s.status("u1", "E1") == ("Active", "None")
    assert s.usage("E3") == (3, 0)
    assert s.usage("E1") == (1, 9)
    assert processing(s, "G_E3")[-1] == ("ProcessingComplete", 3, 2)
    [finish] = audits(s, FINISH_ACTIVITY)
    assert finish["result"] == "Users successfully assigned licenses: 3, Users for whom license assignment failed: 2."
    assert s.members_in_error("G_E3") == {"u1", "u5"}
    actions_needed = {u: ISSUE_LABELS[s.status(u, "E3", "G_E3")[1]] for u in s.members_in_error("G_E3")}
    assert actions_needed == {"u1": "Conflicting service plans", "u5": "Not enough licenses"}


# ---- H. Group kinds, nesting, dynamic membership, deletion ------------------------------------------------------


def test_s49_nested_group_members_are_not_licensed() -> None:
    # given
    s = Scenario()
    s.group("G_E3")
    s.group("G_SUB")
    s.add("G_E3", "u1")
    s.add_group("G_E3", "G_SUB")
    s.add("G_SUB", "u2")
    # when
    s.assign("G_E3", add=["E3"])
    s.add("G_SUB", "u4")
    # then
    assert s.of_type("LicenseAssignmentStateChanged") == []
    assert s.entries("u1") == {("E3", "G_E3"): ("Active", "None")}
    assert s.entries("u2") == {} and s.entries("u4") == {}
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()
    assert processing(s, "G_E3", s.outputs)[-1] == ("ProcessingComplete", 1, 0)


def test_s50_dynamic_group_rule_change_removes_licences() -> None:
    # given
    s = Scenario()
    s.send("GroupCreated", groupId="G_DYN", displayName="G_DYN", kind="security", membershipType="dynamic")
    s.assign("G_DYN", add=["E3"])
    s.add("G_DYN", "u1", "u2")
    assert s.usage("E3") == (2, 1)
    # when: the rule is edited; the directory emits the removal
    s.remove("G_DYN", "u2")
    # then: as S03
    assert s.entries("u2") == {}
    assert s.effective_disabled("u2", "E3") is None
    assert s.suspended("u2") == E3_PLANS
    assert s.entries("u1") == {("E3", "G_DYN"): ("Active", "None")}
    assert s.usage("E3") == (1, 2)


@pytest.mark.parametrize("variant", ["entra-default", "m365-admin-center"])
def test_s51_ineligible_group_kinds(variant: str) -> None:
    # given
    settings = None
    if variant == "m365-admin-center":
        settings = {"allowedGroupKinds": ["security", "m365SecurityEnabled", "mailEnabledSecurity", "m365"]}
    s = Scenario(settings=settings)
    s.group("G_DL", kind="distribution", security_enabled=False)
    s.group("G_M365", kind="m365", security_enabled=False)
    # when
    dl = s.assign("G_DL", add=["E3"])
    m365 = s.assign("G_M365", add=["E3"])
    # then
    assert [r["error"] for r in s.rejections(dl)] == ["InvalidGroupKind"]
    assert s.state.groups["G_DL"].licenses == {}
    if variant == "entra-default":
        assert [r["error"] for r in s.rejections(m365)] == ["InvalidGroupKind"]
        assert s.state.groups["G_M365"].licenses == {}
        assert s.of_type("GroupLicenseProcessingChanged", m365) == []
    else:
        assert s.rejections(m365) == []
        assert list(s.state.groups["G_M365"].licenses) == [s.state.catalog.resolve_sku("ENTERPRISEPACK").sku_id]
        assert processing(s, "G_M365", m365)[-1][0] == "ProcessingComplete"


def test_s52_licensed_group_cannot_be_deleted() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1")
    before = snapshot(s, "u1")
    # when
    s.send("GroupDeleted", groupId="G_E3")
    # then
    assert [r["error"] for r in s.rejections(s.last)] == ["GroupHasLicenses"]
    assert not s.state.groups["G_E3"].deleted
    assert snapshot(s, "u1") == before
    assert s.usage("E3") == (1, 2)
    no_licence_output(s)
    # when
    s.assign("G_E3", remove=["E3"])
    s.send("GroupDeleted", groupId="G_E3")
    # then
    assert s.rejections(s.last) == []
    assert s.state.groups["G_E3"].deleted
    assert s.state.groups["G_E3"].licenses == {}
    assert s.entries("u1") == {}
    assert s.usage("E3") == (0, 3)


# ---- I. Subscription lifecycle ----------------------------------------------------------------------------------


def _capability(s: Scenario) -> str:
    [usage] = [u for u in s.of_type("ProductUsageChanged") if u["skuPartNumber"] == "ENTERPRISEPACK"]
    return usage["capabilityStatus"]


def test_s53_grace_period_and_suspension_do_not_withdraw() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1", "u2", "u3", "u4")
    assert s.status("u4", "E3", "G_E3") == ("Error", "CountViolation")
    before = snapshot(s, "u1", "u2", "u3", "u4")
    # when: expired, grace period
    s.capacity("E3", 0, warning=3)
    # then
    assert _capability(s) == "Warning"
    assert s.usage("E3") == (3, 0)
    assert snapshot(s, "u1", "u2", "u3", "u4") == before
    assert s.of_type("LicenseAssignmentStateChanged") == []
    # when: cancelled
    s.capacity("E3", 0, suspended=3)
    # then
    assert _capability(s) == "Suspended"
    assert s.usage("E3") == (3, 0)
    assert snapshot(s, "u1", "u2", "u3", "u4") == before
    assert all(E3_PLANS <= s.enabled(u) for u in ("u1", "u2", "u3"))
    assert s.of_type("LicenseAssignmentStateChanged") == []
    s.add("G_E3", "u6")
    assert s.status("u6", "E3", "G_E3") == ("Error", "CountViolation")
    # when: reactivated
    s.capacity("E3", 3)
    # then
    assert _capability(s) == "Enabled"
    assert s.usage("E3") == (3, 0)
    assert s.status("u4", "E3", "G_E3") == ("Error", "CountViolation")
    assert s.status("u6", "E3", "G_E3") == ("Error", "CountViolation")
    assert s.of_type("LicenseAssignmentStateChanged") == []


def test_s54_seat_count_reduced_below_consumption() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1", "u2", "u3")
    assert s.usage("E3") == (3, 0)
    # when
    s.capacity("E3", 2)
    # then
    assert [s.status(u, "E3", "G_E3") for u in ("u1", "u2", "u3")] == [("Active", "None")] * 3
    assert s.usage("E3") == (3, 0)
    assert s.of_type("LicenseAssignmentStateChanged") == []
    s.add("G_E3", "u4")
    assert s.status("u4", "E3", "G_E3") == ("Error", "CountViolation")
    s.remove("G_E3", "u1")  # consumption 2 = capacity 2: still no seat
    assert s.usage("E3") == (2, 0)
    s.add("G_E3", "u6")
    assert s.status("u6", "E3", "G_E3") == ("Error", "CountViolation")
    s.remove("G_E3", "u2")  # consumption drops below 2
    assert s.usage("E3") == (1, 1)
    s.remove("G_E3", "u6")
    s.add("G_E3", "u6")
    assert s.status("u6", "E3", "G_E3") == ("Active", "None")
    assert s.usage("E3") == (2, 0)


def test_s54_seat_count_reduced_below_consumption_improved_warns() -> None:
    # given
    s = Scenario(mode="improved")
    e3_group(s, "G_E3", "u1", "u2", "u3")
    # when
    s.capacity("E3", 2)
    # then
    [usage] = s.of_type("ProductUsageChanged")
    assert usage["overAssigned"] is True
    assert (usage["consumedUnits"], usage["availableUnits"]) == (3, 0)
    assert [s.status(u, "E3", "G_E3") for u in ("u1", "u2", "u3")] == [("Active", "None")] * 3
    s.add("G_E3", "u4")
    assert s.status("u4", "E3", "G_E3") == ("Error", "CountViolation")


# ---- J. Reprocess semantics, idempotency, ordering --------------------------------------------------------------


def test_s55_reprocessing_a_healthy_user_changes_nothing() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1")
    before = snapshot(s, "u1")
    # when / then (twice)
    for _ in range(2):
        s.reprocess_user("u1")
        assert snapshot(s, "u1") == before  # includes lastUpdatedDateTime
        no_licence_output(s)
        assert s.usage("E3") == (1, 2)


def test_s56_duplicate_delivery_of_the_same_event() -> None:
    # given: end of S01
    s = Scenario()
    s.group("G_E3")
    s.add("G_E3", "u1", "u2")
    s.assign("G_E3", add=["E3"])
    assert s.usage("E3") == (2, 1)
    # when: e42 delivered twice
    s.add("G_E3", "u4", event_id="e42")
    first = s.last
    s.add("G_E3", "u4", event_id="e42")
    # then: applied once, the second copy produces no output
    assert entry_changes(s, first) == [("u4", "ENTERPRISEPACK", "G_E3", "Active")]
    assert s.entries("u4") == {("E3", "G_E3"): ("Active", "None")}
    assert s.usage("E3") == (3, 0)
    assert s.last == []
    # when: a new event re-adds an existing member
    s.add("G_E3", "u1")
    # then
    assert s.last == []
    assert s.usage("E3") == (3, 0)


def test_s57_out_of_order_membership_events() -> None:
    # given
    s = Scenario()
    s.group("G_E3", "E3")
    # when (arrival order)
    s.remove("G_E3", "u1", version=2)
    s.add("G_E3", "u1", version=1)
    # then
    assert s.statuses[-1] == "stale"
    assert s.last == []
    assert "u1" not in s.state.groups["G_E3"].members
    assert s.entries("u1") == {}
    assert s.usage("E3") == (0, 3)


def test_s58_licence_before_or_after_members_gives_same_result() -> None:
    # given / when: sequence A
    a = Scenario()
    a.group("G_E3")
    a.add("G_E3", "u1", "u2")
    a.assign("G_E3", add=["E3"])
    # given / when: sequence B
    b = Scenario()
    b.group("G_E3")
    b.assign("G_E3", add=["E3"])
    b.add("G_E3", "u1", "u2")
    # then
    for s in (a, b):
        assert s.entries("u1") == s.entries("u2") == {("E3", "G_E3"): ("Active", "None")}
        assert s.usage("E3") == (2, 1)
    for u in ("u1", "u2"):
        assert a.entries(u) == b.entries(u)
        ea, eb = a.entry(u, "E3", "G_E3"), b.entry(u, "E3", "G_E3")
        assert (ea.disabled, ea.detail) == (eb.disabled, eb.detail)
        assert a.effective_disabled(u, "E3") == b.effective_disabled(u, "E3") == set()


def test_s59_two_groups_grant_same_product_at_same_moment() -> None:
    # given
    s = Scenario()
    s.capacity("E3", 1)
    s.group("G_A", "E3")
    s.group("G_B", "E3")
    # when
    s.add("G_A", "u1")
    s.add("G_B", "u1")
    # then
    assert s.entries("u1") == {("E3", "G_A"): ("Active", "None"), ("E3", "G_B"): ("Active", "None")}
    assert s.usage("E3") == (1, 0)
    assert s.groups_with_errors() == set()
    assert s.rejections() == []
    assert "concurrency" not in json.dumps(s.outputs).lower()


def test_s60_stale_licence_configuration_event() -> None:
    # given
    s = Scenario()
    s.group("G_E3")
    s.add("G_E3", "u1")
    s.assign("G_E3", add=[("E3", ["SWAY"])], version=5)
    before = snapshot(s, "u1")
    # when
    s.assign("G_E3", add=["E3"], version=4)
    # then
    assert s.statuses[-1] == "stale"
    assert s.last == []
    assert snapshot(s, "u1") == before
    assert s.disabled("u1", "E3", "G_E3") == {"SWAY"}


# ---- K. User lifecycle ------------------------------------------------------------------------------------------


def test_s61_disabled_sign_in_does_not_touch_licences() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1")
    before = snapshot(s, "u1")
    # when
    s.update_user("u1", accountEnabled=False)
    # then
    assert snapshot(s, "u1") == before
    no_licence_output(s)
    assert s.usage("E3") == (1, 2)


@pytest.mark.parametrize("release_seat", [False, True])
def test_s62_soft_delete_and_restore(release_seat: bool) -> None:
    # given
    s = Scenario(settings={"releaseSeatOnSoftDelete": True} if release_seat else None)
    e3_group(s, "G_E3", "u1")
    assert s.usage("E3") == (1, 2)
    # when
    s.send("UserDeleted", userId="u1")
    # then
    assert s.entries("u1") == {("E3", "G_E3"): ("Active", "None")}
    assert s.usage("E3") == ((0, 3) if release_seat else (1, 2))
    assert s.suspended("u1") == E3_PLANS
    # when
    s.send("UserRestored", userId="u1")
    # then
    assert s.entries("u1") == {("E3", "G_E3"): ("Active", "None")}
    assert s.suspended("u1") == set()
    assert s.enabled("u1") == E3_PLANS
    assert s.usage("E3") == (1, 2)


def test_s62_soft_delete_then_hard_delete() -> None:
    # given
    s = Scenario()
    e3_group(s, "G_E3", "u1")
    s.send("UserDeleted", userId="u1")
    # when
    s.send("UserDeleted", userId="u1", permanent=True)
    # then
    assert s.status("u1", "E3", "G_E3") is None
    assert "u1" not in s.state.groups["G_E3"].members
    assert s.usage("E3") == (0, 3)
    assert entry_changes(s) == [("u1", "ENTERPRISEPACK", "G_E3", None)]


def test_s63_group_loses_product_drops_never_applied_intents() -> None:
    # given: end of S06
    s = Scenario()
    e3_group(s, "G_E3", "u1", "u2", "u3", "u4", "u5")
    assert s.members_in_error("G_E3") == {"u4", "u5"}
    # when
    s.assign("G_E3", remove=["E3"])
    # then
    for u in ("u1", "u2", "u3", "u4", "u5"):
        assert s.entries(u) == {}
    assert sorted(entry_changes(s)) == [(u, "ENTERPRISEPACK", "G_E3", None) for u in ("u1", "u2", "u3", "u4", "u5")]
    assert s.usage("E3") == (0, 3)
    assert s.groups_with_errors() == set()
    assert s.members_in_error("G_E3") == set()
    assert s.of_type("GroupErrorStatusChanged") == [
        {"groupId": "G_E3", "hasMembersWithLicenseErrors": False, "causedBy": s.events[-1]["id"]}
    ]
