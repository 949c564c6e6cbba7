"""explain: per-plan provenance (SPEC §6.5) on SPEC situations, and that its enabled plans are `assignedLicenses`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given

from processor.analysis.explain import explain
from processor.analysis.lookup import resolve_user
from projections.export import tenant_document
from tests.analysis.tenant import PLAN_ID, LoggedTenant, all_plans_except, s41_shared_address, store_of
from tests.properties.test_properties import PROPERTY_SETTINGS, streams


def product(doc: dict[str, Any], part: str) -> dict[str, Any]:
    (found,) = [sku for sku in doc["skus"] if sku["skuPartNumber"] == part]
    return found


def plan(doc: dict[str, Any], part: str, name: str) -> dict[str, Any]:
    (found,) = [p for p in product(doc, part)["plans"] if p["servicePlanName"] == name]
    return found


def event_ids(found: dict[str, Any]) -> set[str]:
    return {e["id"] for e in found["events"]}


def test_s16_a_blocked_plan_names_the_clashing_plan_and_the_licence_it_comes_from(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.direct("u1", add=["E1"])
    direct = t.events[-1]["id"]
    t.group("G_E3", "E3", name="E3 users")
    t.add("G_E3", "u1")
    joined = t.events[-1]["id"]

    doc = explain(t.conn, "contoso", "u1")

    e3 = product(doc, "ENTERPRISEPACK")
    assert e3["held"] is False
    sharepoint = plan(doc, "ENTERPRISEPACK", "SHAREPOINTENTERPRISE")
    assert sharepoint["enabled"] is False
    assert "clashes with SHAREPOINTSTANDARD of the direct STANDARDPACK" in sharepoint["because"]
    assert "'E3 users'" in sharepoint["because"]
    assert {direct, joined} <= event_ids(sharepoint)
    sway = plan(doc, "ENTERPRISEPACK", "SWAY")  # not a clashing plan: blocked because the licence as a whole is
    assert "not applied as a whole" in sway["because"] and "MutuallyExclusiveViolation" in sway["because"]
    e1_sharepoint = plan(doc, "STANDARDPACK", "SHAREPOINTSTANDARD")
    assert e1_sharepoint["enabled"] is True and e1_sharepoint["because"] == "enabled by the direct assignment"
    assert event_ids(e1_sharepoint) == {direct}


def test_s10_two_groups_of_one_product_union_of_plans_and_whose_disabled_plans_turn_one_off(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_A", ("E3", ["YAMMER_ENTERPRISE", "SWAY"]))
    t.group("G_B", ("E3", all_plans_except("E3", "YAMMER_ENTERPRISE")))
    config_b = t.events[-1]["id"]
    t.add("G_A", "u1")
    t.add("G_B", "u1")

    doc = explain(t.conn, "contoso", "u1")

    sway = plan(doc, "ENTERPRISEPACK", "SWAY")
    assert sway["enabled"] is False
    assert "disabledPlans of group 'G_A'" in sway["because"] and "disabledPlans of group 'G_B'" in sway["because"]
    yammer = plan(doc, "ENTERPRISEPACK", "YAMMER_ENTERPRISE")
    assert yammer["enabled"] is True and yammer["because"] == "enabled by group 'G_B'"
    assert config_b in event_ids(yammer)
    teams = plan(doc, "ENTERPRISEPACK", "TEAMS1")
    assert teams["because"] == "enabled by group 'G_A'"


def test_s31_a_licence_kept_after_leaving_says_which_dependent_plan_keeps_it(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1")
    t.direct("u1", add=["AC"])
    t.remove("G_E3", "u1")
    left = t.events[-1]["id"]

    doc = explain(t.conn, "contoso", "u1")

    e3 = product(doc, "ENTERPRISEPACK")
    assert e3["held"] is True
    (source,) = e3["sources"]
    assert (source["state"], source["error"]) == ("ActiveWithError", "DependencyViolation")
    skype = plan(doc, "ENTERPRISEPACK", "MCOSTANDARD")
    assert skype["enabled"] is True
    assert "no longer assigns it" in skype["because"]
    assert "MCOMEETADV (of the direct MCOMEETADV) without MCOSTANDARD" in skype["because"]
    assert left in event_ids(skype)


def test_s37_a_location_error_names_the_location_and_the_event_that_set_it(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    created_u5 = next(e["id"] for e in t.events if e["type"] == "UserCreated" and e["data"]["userId"] == "u5")
    t.group("G_CALL", "CALL")
    t.add("G_CALL", "u5")

    calling = plan(explain(t.conn, "contoso", "u5"), "MCOPSTN1", "MCOPSTN1")

    assert calling["enabled"] is False
    assert "MCOPSTN1 is not offered in the user's usage location IN" in calling["because"]
    assert created_u5 in event_ids(calling)


def test_s39_variant_the_tenant_country_used_for_a_user_without_location_is_named_with_its_event(
    tmp_path: Path,
) -> None:
    t = LoggedTenant(tmp_path / "t.db", country="IN")
    configured = t.events[0]["id"]
    t.group("G_CALL", "CALL")
    t.add("G_CALL", "u3")

    calling = plan(explain(t.conn, "contoso", "u3"), "MCOPSTN1", "MCOPSTN1")

    assert "the tenant's country IN, used because the user has no usage location" in calling["because"]
    assert configured in event_ids(calling)


def test_s41_a_duplicate_address_names_the_other_holder(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    shared = s41_shared_address(t)  # Bob and Dave both list smtp:sales@contoso.com; Dave's E3 fails on it

    exchange = plan(explain(t.conn, "contoso", "u4"), "ENTERPRISEPACK", "EXCHANGE_S_ENTERPRISE")

    assert "sales@contoso.com is also held by Bob (bob@contoso.com)" in exchange["because"]
    assert shared in event_ids(exchange)


def test_s11_other_names_the_sibling_that_failed_and_count_names_the_seats(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.capacity("EMS", 1)
    capacity = t.events[-1]["id"]
    t.group("G_E3EMS", "E3", "EMS")
    t.add("G_E3EMS", "u1", "u2")

    doc = explain(t.conn, "contoso", "u2")

    other = plan(doc, "ENTERPRISEPACK", "TEAMS1")
    assert "not applied because EMS (CountViolation) of the same group failed" in other["because"]
    count = plan(doc, "EMS", "INTUNE_A")
    assert "no EMS seat was free when it was tried (1 of 1 in use now)" in count["because"]
    assert capacity in event_ids(count)


def test_plan_and_product_filters_keep_only_what_was_asked(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.direct("u1", add=["E1", "PBI"])

    doc = explain(t.conn, "contoso", "u1", sku="STANDARDPACK", plan=PLAN_ID["TEAMS1"])

    assert [(s["skuPartNumber"], [p["servicePlanName"] for p in s["plans"]]) for s in doc["skus"]] == [
        ("STANDARDPACK", ["TEAMS1"])
    ]


def test_users_are_found_by_principal_name_and_display_name(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    assert resolve_user(t.conn, "contoso", "ALICE@contoso.com") == "u1"
    assert resolve_user(t.conn, "contoso", "Bob") == "u2"


@PROPERTY_SETTINGS
@given(streams(max_tenants=1))
def test_explain_enabled_plans_are_exactly_the_assigned_licenses(stream: list[dict[str, Any]]) -> None:
    with store_of(stream) as (conn, _):
        tenant = stream[0]["tenant"]
        for user in tenant_document(conn, tenant)["users"]:
            doc = explain(conn, tenant, user["id"])
            held = {
                sku["skuId"]: sorted(p["servicePlanId"] for p in sku["plans"] if not p["enabled"])
                for sku in doc["skus"]
                if sku["held"]
            }
            assert held == {lic["skuId"]: lic["disabledPlans"] for lic in user["assignedLicenses"]}
            for sku in doc["skus"]:
                assert all(p["because"] for p in sku["plans"])
                if not sku["held"]:
                    assert not any(p["enabled"] for p in sku["plans"])
