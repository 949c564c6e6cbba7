"""Reports: seats held by deleted or disabled accounts and stuck entries (SPEC §6.6, §6.17), plans turned on by a
vendor addition (§6.15), and one row per error (§5.4); and reprocess of every user in error or of one product."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from processor.analysis.reports import errors_report, new_plans_report, seats_report
from processor.analysis.reprocess import reprocess
from tests.analysis.tenant import SKU_ID, LoggedTenant, all_plans_except, s41_shared_address

VIVA = {"servicePlanId": "a82fbf69-b4d7-49f4-83a6-915b2cf354f4", "servicePlanName": "VIVAENGAGE_CORE"}


def seat_rows(doc: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(r["userId"], r["skuPartNumber"], r["groupDisplayName"], r["category"]) for r in doc["rows"]}


def test_seats_held_by_a_deleted_and_a_disabled_account_and_by_a_stuck_entry(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3", name="E3 users")
    t.add("G_E3", "u1", "u2", "u4")
    t.send("UserDeleted", userId="u1")  # soft delete: the seat stays (releaseSeatOnSoftDelete false)
    t.update_user("u2", accountEnabled=False)  # SPEC S61: disabled sign-in keeps the licence
    t.direct("u4", add=["AC"])
    t.remove("G_E3", "u4")  # SPEC S31: kept in ActiveWithError
    t.group("G_B", "E3")
    t.add("G_B", "u6")  # Active: not wasted

    doc = seats_report(t.conn, "contoso")

    assert seat_rows(doc) == {
        ("u1", "ENTERPRISEPACK", "E3 users", "soft-deleted"),
        ("u2", "ENTERPRISEPACK", "E3 users", "sign-in disabled"),
        ("u4", "ENTERPRISEPACK", "E3 users", "ActiveWithError"),
    }
    assert {r["userId"]: r["displayName"] for r in doc["rows"]} == {"u1": "Alice", "u2": "Bob", "u4": "Dave"}
    assert doc["bySku"] == [{"skuPartNumber": "ENTERPRISEPACK", "seats": 3}]
    assert {(s["category"], s["seats"]) for s in doc["summary"]} == {
        ("soft-deleted", 1),
        ("sign-in disabled", 1),
        ("ActiveWithError", 1),
    }


def test_a_soft_deleted_account_costs_no_seat_when_the_tenant_releases_it(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db", settings={"releaseSeatOnSoftDelete": True})
    t.group("G_E3", "E3")
    t.add("G_E3", "u1")
    t.send("UserDeleted", userId="u1")

    assert seats_report(t.conn, "contoso")["rows"] == []


def test_errors_one_row_per_entry_in_error_with_group_code_reason_and_fix(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.capacity("EMS", 1)
    t.group("G_E3EMS", "E3", "EMS", name="E3 and EMS")
    t.add("G_E3EMS", "u1", "u2")
    t.group("G_CALL", "CALL")
    t.add("G_CALL", "u1")
    t.update_user("u1", usageLocation="IN")
    t.reprocess_user("u1")  # SPEC S40: the applied Calling Plan is flagged, not withdrawn

    rows = errors_report(t.conn, "contoso")["rows"]

    assert [(r["displayName"], r["skuPartNumber"], r["groupDisplayName"], r["state"], r["error"]) for r in rows] == [
        ("Alice", "MCOPSTN1", "G_CALL", "ActiveWithError", "ProhibitedInUsageLocationViolation"),
        ("Bob", "EMS", "E3 and EMS", "Error", "CountViolation"),
        ("Bob", "ENTERPRISEPACK", "E3 and EMS", "Error", "Other"),
    ]
    assert rows[1]["reason"] == "no EMS seat available"
    assert rows[1]["suggestedFix"].startswith("Buy more EMS seats")
    assert rows[1]["userPrincipalName"] == "bob@contoso.com"


def test_s47_a_vendor_plan_is_reported_for_the_groups_and_users_it_turned_on_and_whether_it_still_is(
    tmp_path: Path,
) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", ("E3", ["YAMMER_ENTERPRISE"]))
    t.group("G_X", ("E3", all_plans_except("E3", "EXCHANGE_S_ENTERPRISE")))
    t.add("G_E3", "u1")
    t.add("G_X", "u2")
    t.direct("u1", add=[("E1", ["SHAREPOINTSTANDARD", "EXCHANGE_S_STANDARD"])])
    t.direct("u4", add=["E1"])
    t.send("ServicePlanAdded", skuId=SKU_ID["E3"], **VIVA)
    added_to_e3 = t.events[-1]["id"]
    t.send("ServicePlanAdded", skuId=SKU_ID["E1"], **VIVA)  # Alice has it already, from E3
    added_to_e1 = t.events[-1]["id"]
    t.assign("G_X", add=[("E3", all_plans_except("E3", "EXCHANGE_S_ENTERPRISE") + ["VIVAENGAGE_CORE"])])

    rows = new_plans_report(t.conn, "contoso")["rows"]

    assert {(r["eventId"], r["skuPartNumber"], r["kind"], r["id"], r["stillOn"]) for r in rows} == {
        (added_to_e3, "ENTERPRISEPACK", "group", "G_E3", True),
        (added_to_e3, "ENTERPRISEPACK", "group", "G_X", False),
        (added_to_e3, "ENTERPRISEPACK", "user", "u1", True),
        (added_to_e3, "ENTERPRISEPACK", "user", "u2", False),
        (added_to_e1, "STANDARDPACK", "user", "u4", True),
    }
    assert {r["servicePlanName"] for r in rows} == {"VIVAENGAGE_CORE"}


def test_reprocess_by_product_and_of_every_error_heals_oldest_first_without_a_user_limit(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    for n in range(7, 31):  # more than the admin center's 20 users per click
        t.send("UserCreated", userId=f"u{n}", usageLocation="US")
    t.group("G_PBI", "PBI")
    t.add("G_PBI", *[f"u{n}" for n in range(30, 6, -1)])  # 5 seats: u25 down to u7 wait, u25 the longest
    t.group("G_CALL", "CALL")
    t.add("G_CALL", "u5")  # IN: a location error no seat heals
    t.capacity("PBI", 10)

    by_product = reprocess(t.conn, "contoso", sku="POWER_BI_PRO", time="2026-02-01T09:00:00Z")

    assert (by_product["requested"], by_product["errorsBefore"], by_product["errorsAfter"]) == (19, 20, 15)
    waiting = {user for user, part, _ in t.errors() if part == "POWER_BI_PRO"}
    assert waiting == {f"u{n}" for n in range(7, 21)}  # the five who waited longest (u25 to u21) got the seats
    every = reprocess(t.conn, "contoso", all_errors=True, time="2026-02-01T09:00:01Z")
    assert (every["requested"], every["errorsAfter"]) == (15, 15)


def test_s41_the_other_holder_of_a_duplicate_address_is_named_not_numbered(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    s41_shared_address(t)  # Bob and Dave both list smtp:sales@contoso.com; Dave's E3 fails on it

    (row,) = errors_report(t.conn, "contoso")["rows"]

    assert row["reason"] == "sales@contoso.com also used by Bob"
    assert row["suggestedFix"] == (
        "Remove the duplicate proxy address (sales@contoso.com, also on Bob) from one of them, then reprocess."
    )
