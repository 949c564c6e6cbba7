"""SPEC §4 scenarios S22–S42: rulesets, swaps, dependencies and add-ons, usage location, duplicate proxy addresses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dsl import PLANS_OF, SHORT, Scenario, all_plans_except, pair_names

NONE = "None"
EXCLUSIVE = "MutuallyExclusiveViolation"
DEPENDENCY = "DependencyViolation"
LOCATION = "ProhibitedInUsageLocationViolation"
UNIQUENESS = "UniquenessViolation"

EXCHANGE_PAIR = frozenset({"EXCHANGE_S_ENTERPRISE", "EXCHANGE_S_STANDARD"})
SHAREPOINT_PAIR = frozenset({"SHAREPOINTENTERPRISE", "SHAREPOINTSTANDARD"})

MCOMEETADV_ID = "3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40"
MCOSTANDARD_ID = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c"
GROUP_PREREQ_MESSAGE = (
    "License operation failed. Make sure that the group has necessary services before adding or removing a "
    "dependent service."
)
AC_NEEDS_SKYPE_MESSAGE = (
    f"License assignment failed because service plan [{MCOMEETADV_ID}] depends on the service plan(s) "
    f"[{MCOSTANDARD_ID}]."
)


# ---- local helpers ------------------------------------------------------------------------------------------


def missing(detail: dict[str, Any]) -> set[tuple[str, frozenset[str]]]:
    """{(dependent plan, {prerequisites})} of a DependencyViolation detail."""
    return {
        (m["plan"]["servicePlanName"], frozenset(r["servicePlanName"] for r in m["requiresAnyOf"]))
        for m in detail["missing"]
    }


AC_NEEDS_SKYPE = {("MCOMEETADV", frozenset({"MCOSTANDARD"}))}


def entry_changes(s: Scenario) -> list[dict[str, Any]]:
    """Licence state outputs of the last event (entry changes and effective licence changes)."""
    return s.of_type("LicenseAssignmentStateChanged") + s.of_type("AssignedLicensesChanged")


def group_config(s: Scenario, group_id: str) -> dict[str, set[str]]:
    """{short: disabled plan names} of a group's configuration."""
    by_id = {s.state.catalog.resolve_sku(sku).sku_id: short for short, sku in SHORT.items()}
    return {by_id[sku_id]: s._names(mask) for sku_id, mask in s.state.groups[group_id].licenses.items()}


def e1_direct_e3_group(ruleset: str) -> Scenario:
    """S22 given/when: u1 `E1@direct` without SharePoint Plan 1 joins `G_E3` = {E3}."""
    s = Scenario(ruleset=ruleset)
    s.direct("u1", add=[("E1", ["SHAREPOINTSTANDARD"])])
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    return s


def kiosk_with_e1() -> Scenario:
    """S26/S27 given: `G_K` = {E1} with u1, u2 Active; E1 2/10."""
    s = Scenario()
    s.group("G_K", "E1")
    s.add("G_K", "u1", "u2")
    assert s.usage("E1") == (2, 8)
    return s


def e3_member_with_direct_ac(s: Scenario) -> Scenario:
    """u1 in `G_E3` = {E3} plus `AC@direct` (Skype comes from the group); E3 1/3, AC 1/5."""
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    s.direct("u1", add=["AC"])
    assert s.rejections() == []
    assert s.entries("u1") == {("E3", "G_E3"): ("Active", NONE), ("AC", "direct"): ("Active", NONE)}
    return s


def call_group(country: str = "US", mode: str = "faithful") -> Scenario:
    s = Scenario(country=country, mode=mode)
    s.group("G_CALL", "CALL")
    return s


def duplicate_sales_address(proxy_mode: str = "recordError", mode: str = "faithful") -> Scenario:
    """S41: u2 `E3@direct` holding smtp:sales@, u4 gets the same address, then joins `G_E3` and `G_EMS`."""
    s = Scenario(mode=mode, settings={"proxyConflictMode": proxy_mode})
    s.update_user("u2", proxyAddresses=["SMTP:bob@contoso.com", "smtp:sales@contoso.com"])
    s.direct("u2", add=["E3"])
    s.update_user("u4", proxyAddresses=["SMTP:dave@contoso.com", "smtp:sales@contoso.com"])
    s.group("G_E3", "E3")
    s.group("G_EMS", "EMS")
    s.add("G_E3", "u4")
    s.add("G_EMS", "u4")
    return s


# ---- C. Conflicting service plans --------------------------------------------------------------------------


def test_s22_exchange_plan1_plan2_clash_under_classic_2019():
    # given / when
    s = e1_direct_e3_group("classic-2019")
    # then
    assert s.status("u1", "E3", "G_E3") == ("Error", EXCLUSIVE)
    assert pair_names(s.detail("u1", "E3", "G_E3")) == {EXCHANGE_PAIR}
    assert s.status("u1", "E1") == ("Active", NONE)
    assert s.usage("E1") == (1, 9)
    assert s.usage("E3") == (0, 3)
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u1"}


def test_s22_exchange_plan1_plan2_stack_under_current_2023():
    # given / when
    s = e1_direct_e3_group("current-2023")
    # then
    assert s.entries("u1") == {("E1", "direct"): ("Active", NONE), ("E3", "G_E3"): ("Active", NONE)}
    assert {"EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE"} <= s.enabled("u1")
    assert s.usage("E1") == (1, 9)
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()


def test_s23_switching_ruleset_does_not_silently_heal_old_errors():
    # given
    s = e1_direct_e3_group("classic-2019")
    assert s.status("u1", "E3", "G_E3") == ("Error", EXCLUSIVE)
    # when
    s.send("TenantConfigured", ruleset="current-2023")
    # then
    assert s.status("u1", "E3", "G_E3") == ("Error", EXCLUSIVE)
    assert entry_changes(s) == []
    assert s.usage("E3") == (0, 3)
    assert s.groups_with_errors() == {"G_E3"}
    # when
    s.reprocess_user("u1")
    # then
    assert s.status("u1", "E3", "G_E3") == ("Active", NONE)
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()


def test_s24_project_for_e1_user_sharepoint_clash():
    # given
    s = Scenario()
    s.direct("u1", add=["E1"])
    s.group("G_PROJ", "PROJ")
    # when
    s.add("G_PROJ", "u1")
    # then
    assert s.status("u1", "PROJ", "G_PROJ") == ("Error", EXCLUSIVE)
    assert pair_names(s.detail("u1", "PROJ", "G_PROJ")) == {SHAREPOINT_PAIR}
    assert s.usage("PROJ") == (0, 2)
    # when
    s.direct("u1", add=[("E1", ["SHAREPOINTSTANDARD"])])
    assert s.rejections() == []
    assert s.status("u1", "PROJ", "G_PROJ") == ("Error", EXCLUSIVE)  # faithful: no retry after a direct edit
    s.reprocess_user("u1")
    # then
    assert s.status("u1", "PROJ", "G_PROJ") == ("Active", NONE)
    assert s.usage("PROJ") == (1, 1)
    assert s.groups_with_errors() == set()


def test_s25_widening_a_group_configuration_into_a_clash():
    # given
    s = Scenario()
    s.direct("u1", add=["E1"])
    s.group("G_E3", ("E3", ["SHAREPOINTENTERPRISE", "EXCHANGE_S_ENTERPRISE"]))
    s.add("G_E3", "u1", "u2")
    assert s.status("u1", "E3", "G_E3") == ("Active", NONE)
    assert s.status("u2", "E3", "G_E3") == ("Active", NONE)
    # when
    s.assign("G_E3", add=[("E3", [])])
    # then
    assert s.status("u2", "E3", "G_E3") == ("Active", NONE)
    assert s.disabled("u2", "E3", "G_E3") == set()
    assert s.status("u1", "E3", "G_E3") == ("ActiveWithError", EXCLUSIVE)
    assert s.disabled("u1", "E3", "G_E3") == {"SHAREPOINTENTERPRISE", "EXCHANGE_S_ENTERPRISE"}
    assert pair_names(s.detail("u1", "E3", "G_E3")) == {SHAREPOINT_PAIR, EXCHANGE_PAIR}
    assert s.status("u1", "E1") == ("Active", NONE)
    assert s.usage("E3") == (2, 1)
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u1"}


def test_s26_product_swap_on_a_group_in_one_command():
    # given
    s = kiosk_with_e1()
    # when
    outputs = s.assign("G_K", add=["E3"], remove=["E1"])
    # then
    for user in ("u1", "u2"):
        assert s.entries(user) == {("E3", "G_K"): ("Active", NONE)}
    assert s.usage("E1") == (0, 10)
    assert s.usage("E3") == (2, 1)
    changes = s.of_type("LicenseAssignmentStateChanged", outputs)
    assert sorted((o["userId"], o["skuPartNumber"], o["state"], o["error"]) for o in changes) == [
        ("u1", "ENTERPRISEPACK", "Active", NONE),
        ("u1", "STANDARDPACK", None, None),  # withdrawn, never in error
        ("u2", "ENTERPRISEPACK", "Active", NONE),
        ("u2", "STANDARDPACK", None, None),
    ]
    assert s.of_type("GroupErrorStatusChanged", outputs) == []
    assert s.groups_with_errors() == set()


def test_s27_product_swap_in_two_commands_collides_then_heals():
    # given
    s = kiosk_with_e1()
    # when
    s.assign("G_K", add=["E3"])
    # then
    for user in ("u1", "u2"):
        assert s.entries(user) == {("E1", "G_K"): ("Active", NONE), ("E3", "G_K"): ("Error", EXCLUSIVE)}
    assert s.usage("E3") == (0, 3)
    assert s.groups_with_errors() == {"G_K"}
    assert s.members_in_error("G_K") == {"u1", "u2"}
    # when
    s.assign("G_K", remove=["E1"])
    # then: final state equals S26
    swapped = kiosk_with_e1()
    swapped.assign("G_K", add=["E3"], remove=["E1"])
    for user in ("u1", "u2"):
        assert s.entries(user) == {("E3", "G_K"): ("Active", NONE)} == swapped.entries(user)
        assert s.disabled(user, "E3", "G_K") == set() == swapped.disabled(user, "E3", "G_K")
    assert s.usage("E1") == (0, 10) == swapped.usage("E1")
    assert s.usage("E3") == (2, 1) == swapped.usage("E3")
    assert s.groups_with_errors() == set()


# ---- D. Dependencies and add-ons ---------------------------------------------------------------------------


def test_s28_addon_alone_on_a_group_is_refused_with_reject_policy():
    # given
    s = Scenario(settings={"groupPrereqPolicy": "reject"})
    s.group("G_AC")
    # when
    outputs = s.assign("G_AC", add=["AC"])
    # then
    [rejection] = s.rejections(outputs)
    assert rejection["error"] == DEPENDENCY
    assert rejection["message"].startswith(GROUP_PREREQ_MESSAGE)
    tail = rejection["message"][len(GROUP_PREREQ_MESSAGE) :]
    assert "MCOMEETADV" in tail and "MCOSTANDARD" in tail  # which service needs which
    assert missing(rejection["detail"]) == AC_NEEDS_SKYPE
    assert [o["type"] for o in outputs] == ["CommandRejected"]
    assert s.state.groups["G_AC"].licenses == {}


def test_s28_addon_alone_on_a_group_disables_the_dependent_plan():
    # given
    s = Scenario(settings={"groupPrereqPolicy": "disableDependentPlan"})
    s.group("G_AC")
    # when
    outputs = s.assign("G_AC", add=["AC"])
    # then
    assert s.rejections(outputs) == []
    assert group_config(s, "G_AC") == {"AC": {"MCOMEETADV"}}
    [config] = s.of_type("GroupConfigurationChanged", outputs)
    assert config["warnings"] and "MCOMEETADV" in str(config["warnings"])
    # the SKU gives nothing but still costs a seat per member
    s.add("G_AC", "u1")
    assert s.status("u1", "AC", "G_AC") == ("Active", NONE)
    assert s.disabled("u1", "AC", "G_AC") == {"MCOMEETADV"}
    assert "MCOMEETADV" not in s.enabled("u1")
    assert s.usage("AC") == (1, 4)


def test_s29_addon_bundled_with_minimal_prerequisite_and_overlapping_suite():
    # given
    s = Scenario()
    s.group("G_AC", ("E3", all_plans_except("E3", "MCOSTANDARD")), "AC")
    s.group("G_E3", "E3")
    # when
    s.add("G_AC", "u1")
    s.add("G_E3", "u1")
    s.add("G_AC", "u2")
    # then
    assert s.entries("u1") == {
        ("E3", "G_AC"): ("Active", NONE),
        ("AC", "G_AC"): ("Active", NONE),
        ("E3", "G_E3"): ("Active", NONE),
    }
    assert s.effective_disabled("u1", "E3") == set()
    assert s.effective_disabled("u1", "AC") == set()
    assert s.entries("u2") == {("E3", "G_AC"): ("Active", NONE), ("AC", "G_AC"): ("Active", NONE)}
    assert s.effective_disabled("u2", "E3") == set(all_plans_except("E3", "MCOSTANDARD"))
    assert s.enabled("u2") == {"MCOSTANDARD", "MCOMEETADV"}
    assert s.usage("E3") == (2, 1)
    assert s.usage("AC") == (2, 3)
    assert s.groups_with_errors() == set()


def test_s30_direct_addon_without_prerequisite_is_refused():
    # given
    s = Scenario()
    # when
    outputs = s.direct("u2", add=["AC"])
    # then
    [rejection] = s.rejections(outputs)
    assert rejection["error"] == DEPENDENCY
    assert rejection["message"] == AC_NEEDS_SKYPE_MESSAGE
    assert [o["type"] for o in outputs] == ["CommandRejected"]
    assert s.entries("u2") == {}
    assert s.usage("AC") == (0, 5)


def test_s31_leaving_group_blocked_by_direct_addon():
    # given
    s = e3_member_with_direct_ac(Scenario())
    assert s.usage("E3") == (1, 2) and s.usage("AC") == (1, 4)
    # when
    s.remove("G_E3", "u1")
    # then
    assert "u1" not in s.state.groups["G_E3"].members
    assert s.status("u1", "E3", "G_E3") == ("ActiveWithError", DEPENDENCY)
    assert s.entry("u1", "E3", "G_E3").group_id == "G_E3"  # assignedByGroup still points at the group
    assert s.disabled("u1", "E3", "G_E3") == set()
    assert missing(s.detail("u1", "E3", "G_E3")) == AC_NEEDS_SKYPE
    assert s.status("u1", "AC") == ("Active", NONE)
    assert s.usage("E3") == (1, 2)
    assert s.usage("AC") == (1, 4)
    assert s.suspended("u1") == set()
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u1"}


def test_s32_resolving_s31_by_removing_the_addon_then_reprocessing():
    # given
    s = e3_member_with_direct_ac(Scenario())
    s.remove("G_E3", "u1")
    # when
    outputs = s.direct("u1", remove=["AC"])
    # then
    assert s.rejections(outputs) == []
    assert s.status("u1", "AC") is None
    assert s.usage("AC") == (0, 5)
    assert s.status("u1", "E3", "G_E3") == ("ActiveWithError", DEPENDENCY)  # faithful: unchanged
    # when
    s.reprocess_user("u1")
    # then
    assert s.entries("u1") == {}
    assert s.usage("E3") == (0, 3)
    assert set(PLANS_OF["E3"]) <= s.suspended("u1")
    assert s.groups_with_errors() == set()


def test_s32_alternative_fix_skype_from_another_group_then_reprocess():
    # given
    s = e3_member_with_direct_ac(Scenario())
    s.remove("G_E3", "u1")
    s.group("G_AC", ("E3", all_plans_except("E3", "MCOSTANDARD")), "AC")
    # when
    s.add("G_AC", "u1")
    s.reprocess_user("u1")
    # then
    assert s.status("u1", "E3", "G_E3") is None
    assert s.status("u1", "E3", "G_AC") == ("Active", NONE)
    assert "MCOSTANDARD" in s.enabled("u1")
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()


def test_s32_improved_addon_removal_reevaluates_immediately():
    # given
    s = e3_member_with_direct_ac(Scenario(mode="improved"))
    s.remove("G_E3", "u1")
    assert s.status("u1", "E3", "G_E3") == ("ActiveWithError", DEPENDENCY)
    # when
    s.direct("u1", remove=["AC"])
    # then
    assert s.entries("u1") == {}
    assert s.usage("E3") == (0, 3)
    assert s.usage("AC") == (0, 5)
    assert s.groups_with_errors() == set()


def test_s33_direct_removal_blocked_by_dependency():
    # given
    s = Scenario()
    s.direct("u1", add=["E3", "AC"])
    assert s.entries("u1") == {("E3", "direct"): ("Active", NONE), ("AC", "direct"): ("Active", NONE)}
    # when
    outputs = s.direct("u1", remove=["E3"])
    # then
    [rejection] = s.rejections(outputs)
    assert rejection["error"] == DEPENDENCY
    assert rejection["message"] == AC_NEEDS_SKYPE_MESSAGE
    assert missing(rejection["detail"]) == AC_NEEDS_SKYPE
    assert [o["type"] for o in outputs] == ["CommandRejected"]
    assert s.entries("u1") == {("E3", "direct"): ("Active", NONE), ("AC", "direct"): ("Active", NONE)}
    assert s.usage("E3") == (1, 2) and s.usage("AC") == (1, 4)
    # when
    outputs = s.direct("u1", remove=["E3", "AC"])
    # then
    assert s.rejections(outputs) == []
    assert s.entries("u1") == {}
    assert s.usage("E3") == (0, 3)
    assert s.usage("AC") == (0, 5)


def test_s34_group_narrows_a_plan_a_members_addon_needs():
    # given
    s = e3_member_with_direct_ac(Scenario())
    s.add("G_E3", "u2")
    # when
    s.assign("G_E3", add=[("E3", ["MCOSTANDARD"])])
    # then
    assert s.status("u2", "E3", "G_E3") == ("Active", NONE)
    assert s.disabled("u2", "E3", "G_E3") == {"MCOSTANDARD"}
    assert "MCOSTANDARD" not in s.enabled("u2")
    assert s.suspended("u2") == {"MCOSTANDARD"}
    assert s.status("u1", "E3", "G_E3") == ("ActiveWithError", DEPENDENCY)
    assert s.disabled("u1", "E3", "G_E3") == set()
    assert "MCOSTANDARD" in s.enabled("u1")
    assert missing(s.detail("u1", "E3", "G_E3")) == AC_NEEDS_SKYPE
    assert s.usage("E3") == (2, 1)
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u1"}


def test_s35_removing_the_product_from_the_group_keep_with_error():
    # given
    s = e3_member_with_direct_ac(Scenario(settings={"dependencyOnGroupRemoval": "keepWithError"}))
    s.add("G_E3", "u2")
    # when
    s.assign("G_E3", remove=["E3"])
    # then
    assert s.entries("u2") == {}
    assert s.status("u1", "E3", "G_E3") == ("ActiveWithError", DEPENDENCY)
    assert s.disabled("u1", "E3", "G_E3") == set()
    assert missing(s.detail("u1", "E3", "G_E3")) == AC_NEEDS_SKYPE
    assert group_config(s, "G_E3") == {}
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u1"}


def test_s35_removing_the_product_from_the_group_convert_to_direct():
    # given
    s = e3_member_with_direct_ac(Scenario(settings={"dependencyOnGroupRemoval": "convertToDirect"}))
    s.add("G_E3", "u2")
    # when
    s.assign("G_E3", remove=["E3"])
    # then
    assert s.entries("u2") == {}
    assert s.entries("u1") == {("E3", "direct"): ("Active", NONE), ("AC", "direct"): ("Active", NONE)}
    assert s.disabled("u1", "E3") == set()
    assert s.usage("E3") == (1, 2)
    assert s.groups_with_errors() == set()


def test_s36_addon_relying_on_a_plan_disabled_in_its_own_sku():
    # given
    s = Scenario()
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    s.direct("u1", add=[("PROJ", ["SHAREPOINTENTERPRISE"])])
    assert s.rejections() == []
    assert s.usage("E3") == (1, 2) and s.usage("PROJ") == (1, 1)
    # when
    s.remove("G_E3", "u1")
    # then
    assert s.status("u1", "E3", "G_E3") == ("ActiveWithError", DEPENDENCY)
    assert missing(s.detail("u1", "E3", "G_E3")) == {("SHAREPOINT_PROJECT", frozenset({"SHAREPOINTENTERPRISE"}))}
    assert s.disabled("u1", "E3", "G_E3") == set()
    assert s.status("u1", "PROJ") == ("Active", NONE)
    assert s.suspended("u1") == set()
    assert s.usage("E3") == (1, 2) and s.usage("PROJ") == (1, 1)
    assert s.groups_with_errors() == {"G_E3"}
    # when
    outputs = s.direct("u1", add=[("PROJ", [])])
    assert s.rejections(outputs) == []
    s.reprocess_user("u1")
    # then
    assert s.entries("u1") == {("PROJ", "direct"): ("Active", NONE)}
    assert s.disabled("u1", "PROJ") == set()
    assert s.usage("E3") == (0, 3)
    assert s.usage("PROJ") == (1, 1)
    assert "SHAREPOINTENTERPRISE" in s.enabled("u1")
    assert s.groups_with_errors() == set()


# ---- E. Usage location -------------------------------------------------------------------------------------


def test_s37_restricted_plan_and_a_member_in_a_disallowed_country():
    # given
    s = call_group()
    # when
    s.add("G_CALL", "u1")
    s.add("G_CALL", "u5")
    # then
    assert s.status("u1", "CALL", "G_CALL") == ("Active", NONE)
    assert s.status("u5", "CALL", "G_CALL") == ("Error", LOCATION)
    detail = s.detail("u5", "CALL", "G_CALL")
    assert [p["servicePlanName"] for p in detail["plans"]] == ["MCOPSTN1"]
    assert detail["location"] == "IN"
    assert s.usage("CALL") == (1, 4)
    assert s.groups_with_errors() == {"G_CALL"}
    assert s.members_in_error("G_CALL") == {"u5"}


def test_s38_correcting_the_location_faithful_needs_reprocess():
    # given
    s = call_group()
    s.add("G_CALL", "u1", "u5")
    # when
    s.update_user("u5", usageLocation="GB")
    # then
    assert s.status("u5", "CALL", "G_CALL") == ("Error", LOCATION)
    assert entry_changes(s) == []
    assert s.usage("CALL") == (1, 4)
    # when
    s.reprocess_user("u5")
    # then
    assert s.status("u5", "CALL", "G_CALL") == ("Active", NONE)
    assert s.usage("CALL") == (2, 3)
    assert s.groups_with_errors() == set()


def test_s38_correcting_the_location_improved_heals_immediately():
    # given
    s = call_group(mode="improved")
    s.add("G_CALL", "u1", "u5")
    assert s.status("u5", "CALL", "G_CALL") == ("Error", LOCATION)
    # when
    s.update_user("u5", usageLocation="GB")
    # then
    assert s.status("u5", "CALL", "G_CALL") == ("Active", NONE)
    assert s.usage("CALL") == (2, 3)
    assert s.groups_with_errors() == set()


def test_s39_empty_location_evaluated_with_the_tenant_country():
    # given
    s = call_group(country="US")
    # when
    s.add("G_CALL", "u3")
    # then
    assert s.status("u3", "CALL", "G_CALL") == ("Active", NONE)
    assert s.state.users["u3"].usage_location is None
    assert s.usage("CALL") == (1, 4)


def test_s39_empty_location_with_tenant_country_in_is_prohibited():
    # given
    s = call_group(country="IN")
    # when
    s.add("G_CALL", "u3")
    # then
    assert s.status("u3", "CALL", "G_CALL") == ("Error", LOCATION)
    assert s.detail("u3", "CALL", "G_CALL")["location"] == "IN"
    assert s.state.users["u3"].usage_location is None
    assert s.usage("CALL") == (0, 5)
    assert s.members_in_error("G_CALL") == {"u3"}


@pytest.mark.parametrize("mode", ["faithful", "improved"])
def test_s40_location_changed_to_a_disallowed_country_after_licensing(mode):
    # given
    s = call_group(mode=mode)
    s.add("G_CALL", "u1")
    assert s.status("u1", "CALL", "G_CALL") == ("Active", NONE)
    # when
    s.update_user("u1", usageLocation="IN")
    # then: nothing changes immediately
    assert s.status("u1", "CALL", "G_CALL") == ("Active", NONE)
    assert entry_changes(s) == []
    assert s.of_type("GroupErrorStatusChanged") == []
    assert s.groups_with_errors() == set()
    # when
    s.reprocess_user("u1")
    # then
    assert s.status("u1", "CALL", "G_CALL") == ("ActiveWithError", LOCATION)
    assert s.detail("u1", "CALL", "G_CALL")["location"] == "IN"
    assert "MCOPSTN1" in s.enabled("u1")
    assert s.suspended("u1") == set()
    assert s.usage("CALL") == (1, 4)
    assert s.groups_with_errors() == {"G_CALL"}
    assert s.members_in_error("G_CALL") == {"u1"}


# ---- F. Duplicate proxy addresses --------------------------------------------------------------------------


def test_s41_duplicate_address_blocks_only_mailbox_products_record_error():
    # given / when
    s = duplicate_sales_address("recordError")
    # then
    assert s.status("u4", "E3", "G_E3") == ("Error", UNIQUENESS)
    addresses = s.detail("u4", "E3", "G_E3")["addresses"]
    assert [(a["address"], a["alsoUsedBy"]) for a in addresses] == [("sales@contoso.com", ["u2"])]
    assert s.status("u4", "EMS", "G_EMS") == ("Active", NONE)
    assert s.usage("E3") == (1, 2)
    assert s.usage("EMS") == (1, 2)
    assert s.groups_with_errors() == {"G_E3"}
    assert s.members_in_error("G_E3") == {"u4"}


def test_s41_duplicate_address_silent_skip_2017_preview():
    # given / when
    s = duplicate_sales_address("silentSkip")
    # then
    assert s.entries("u4") == {("EMS", "G_EMS"): ("Active", NONE)}
    assert s.usage("E3") == (1, 2)
    assert s.usage("EMS") == (1, 2)
    assert s.groups_with_errors() == set()


def test_s42_fix_the_duplicate_then_force_processing():
    # given
    s = duplicate_sales_address("recordError")
    # when
    s.update_user("u4", proxyAddresses=["SMTP:dave@contoso.com"])
    # then
    assert s.status("u4", "E3", "G_E3") == ("Error", UNIQUENESS)
    assert entry_changes(s) == []
    # when
    s.reprocess_group("G_E3")
    # then
    assert s.status("u4", "E3", "G_E3") == ("Active", NONE)
    assert s.usage("E3") == (2, 1)
    assert s.groups_with_errors() == set()


def test_s42_improved_profile_fix_reevaluates_immediately():
    # given
    s = duplicate_sales_address("recordError", mode="improved")
    assert s.status("u4", "E3", "G_E3") == ("Error", UNIQUENESS)
    # when
    s.update_user("u4", proxyAddresses=["SMTP:dave@contoso.com"])
    # then
    assert s.status("u4", "E3", "G_E3") == ("Active", NONE)
    assert s.status("u2", "E3") == ("Active", NONE)
    assert s.usage("E3") == (2, 1)
    assert s.groups_with_errors() == set()
