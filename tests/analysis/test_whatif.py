"""what-if (SPEC §6.8): the prediction is exactly what ingesting the file then does, and it writes nothing; dry runs
of an atomic licence swap (§6.7) and of a membership edit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from processor.analysis.lookup import current_state
from processor.analysis.whatif import group_edit, what_if
from processor.catalog_file import shipped_catalog
from processor.core.catalog import bits
from processor.embedded import eventlog
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document
from tests.analysis.tenant import SKU_ID, LoggedTenant, cloud_event, store_of
from tests.properties.test_properties import PROPERTY_SETTINGS, streams


def lines(events: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    return [(f"batch:{n}", json.dumps(e).encode()) for n, e in enumerate(events, 1)]


def entry_changes(doc: dict[str, Any]) -> dict[tuple[str, str, str | None], tuple[Any, Any]]:
    def view(v: dict[str, Any] | None) -> tuple[str, str] | None:
        return None if v is None else (v["state"], v["error"])

    return {
        (e["userId"], e["skuPartNumber"], e["assignedByGroup"]): (view(e["before"]), view(e["after"]))
        for e in doc["licenseAssignmentStates"]
    }


def seats(doc: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {
        s["skuPartNumber"]: (s["consumedUnits"]["before"], s["consumedUnits"]["after"]) for s in doc["subscribedSkus"]
    }


def test_s26_an_atomic_swap_on_a_group_is_predicted_without_a_clash(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_K", "E1", name="Kiosk")
    t.add("G_K", "u1", "u2")
    swap = group_edit(current_state(t.conn, "contoso"), "G_K", [("ENTERPRISEPACK", [])], ["STANDARDPACK"])
    assert [kind for kind, _ in swap] == ["GroupLicensesChanged"]  # one command: removals and additions together
    batch = [cloud_event("contoso", 100, kind, data) for kind, data in swap]

    doc = what_if(t.conn, "contoso", lines(batch))

    active, gone = ("Active", "None"), None
    assert entry_changes(doc) == {
        ("u1", "STANDARDPACK", "G_K"): (active, gone),
        ("u1", "ENTERPRISEPACK", "G_K"): (gone, active),
        ("u2", "STANDARDPACK", "G_K"): (active, gone),
        ("u2", "ENTERPRISEPACK", "G_K"): (gone, active),
    }
    assert seats(doc) == {"ENTERPRISEPACK": (0, 2), "STANDARDPACK": (2, 0)}
    assert doc["groups"] == [] and doc["rejectedCommands"] == []
    assert {u["userId"]: "SHAREPOINTENTERPRISE" in u["gainedPlans"] for u in doc["users"]} == {"u1": True, "u2": True}


def test_s27_adding_the_new_suite_first_predicts_a_collision_for_every_member(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_K", "E1", name="Kiosk")
    t.add("G_K", "u1", "u2")
    add_only = group_edit(current_state(t.conn, "contoso"), "G_K", [("ENTERPRISEPACK", [])])
    batch = [cloud_event("contoso", 100, kind, data) for kind, data in add_only]

    doc = what_if(t.conn, "contoso", lines(batch))

    clash = ("Error", "MutuallyExclusiveViolation")
    assert entry_changes(doc) == {
        ("u1", "ENTERPRISEPACK", "G_K"): (None, clash),
        ("u2", "ENTERPRISEPACK", "G_K"): (None, clash),
    }
    assert doc["groups"] == [
        {"groupId": "G_K", "displayName": "Kiosk", "hasMembersWithLicenseErrors": {"before": False, "after": True}}
    ]


def test_a_new_membership_list_becomes_the_removals_and_additions_that_lead_to_it(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1", "u2")
    edit = group_edit(current_state(t.conn, "contoso"), "G_E3", members=["u2", "u4"])
    assert edit == [
        ("GroupMemberRemoved", {"groupId": "G_E3", "memberId": "u1"}),
        ("GroupMemberAdded", {"groupId": "G_E3", "memberId": "u4"}),
    ]

    doc = what_if(t.conn, "contoso", lines([cloud_event("contoso", 100 + n, k, d) for n, (k, d) in enumerate(edit)]))

    assert entry_changes(doc) == {
        ("u1", "ENTERPRISEPACK", "G_E3"): (("Active", "None"), None),
        ("u4", "ENTERPRISEPACK", "G_E3"): (None, ("Active", "None")),
    }
    assert doc["subscribedSkus"] == []  # one seat freed, one taken


def test_what_ingest_would_skip_is_skipped_and_nothing_is_written(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.send("GroupMemberAdded", groupId="G_E3", memberId="u1", version=2)
    logged = t.events[-1]
    before = tenant_document(t.conn, "contoso")
    count = eventlog.count(t.conn)
    batch = [
        logged,  # in the log already
        cloud_event("contoso", 200, "GroupMemberAdded", {"groupId": "G_E3", "memberId": "u2"}),
        cloud_event("contoso", 200, "GroupMemberAdded", {"groupId": "G_E3", "memberId": "u3"}),  # same id again
        cloud_event("contoso", 201, "GroupMemberRemoved", {"groupId": "G_E3", "memberId": "u1", "version": 1}),
        cloud_event("fabrikam", 202, "UserCreated", {"userId": "x"}),
    ]
    raw = lines(batch) + [("batch:6", b'{"not": "an event"'), ("batch:7", b"")]

    doc = what_if(t.conn, "contoso", raw)

    assert doc["ingest"] == {
        "accepted": 1,
        "duplicates": 2,
        "stale": 1,
        "deadLettered": 1,
        "otherTenants": 1,
        "reasons": [doc["ingest"]["reasons"][0]],
    }
    assert doc["ingest"]["reasons"][0].startswith("batch:6: not valid JSON")
    assert entry_changes(doc) == {("u2", "ENTERPRISEPACK", "G_E3"): (None, ("Active", "None"))}
    assert tenant_document(t.conn, "contoso") == before and eventlog.count(t.conn) == count


def test_a_vendor_plan_addition_is_predicted_as_plans_gained(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1")
    viva = {
        "skuId": SKU_ID["E3"],
        "servicePlanId": "a82fbf69-b4d7-49f4-83a6-915b2cf354f4",
        "servicePlanName": "VIVAENGAGE_CORE",
    }

    doc = what_if(t.conn, "contoso", lines([cloud_event("contoso", 300, "ServicePlanAdded", viva)]))

    assert doc["users"] == [
        {"userId": "u1", "displayName": "Alice", "gainedPlans": ["VIVAENGAGE_CORE"], "lostPlans": []}
    ]


# ---- what-if of a random batch == ingest of it -----------------------------------------------------------------


@PROPERTY_SETTINGS
@given(streams(max_tenants=2), st.data())
def test_what_if_of_a_random_batch_is_what_ingesting_it_does(stream: list[dict[str, Any]], data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(stream)), label="cut")
    base, batch = stream[:cut], list(stream[cut:])
    if base:  # resent events are duplicates; a garbled line is dead-lettered
        batch += data.draw(st.lists(st.sampled_from(base), max_size=3), label="resent")
    raw = lines(batch) + data.draw(st.sampled_from([[], [("batch:x", b'{"specversion": "1.0"}')]]), label="bad")
    tenants = sorted({e["tenant"] for e in stream})
    with store_of(base) as (conn, _):
        known = {t for t in tenants if conn.execute("SELECT 1 FROM tenants WHERE tenant = ?", (t,)).fetchone()}
        predictions = {t: what_if(conn, t, raw) for t in sorted(known)}
        before = {t: tenant_document(conn, t) for t in known}
        summary = EmbeddedRuntime(conn).ingest(raw, writer="inline")
        for tenant, doc in predictions.items():
            assert_prediction_holds(doc, before[tenant], tenant_document(conn, tenant))
        if len(known) == len(tenants):  # every tenant predicted: the ingest summary is the predictions' sum
            counts = [p["ingest"] for p in predictions.values()]
            assert summary.accepted == sum(c["accepted"] for c in counts)
            assert summary.duplicates == sum(c["duplicates"] for c in counts)
            assert summary.stale == sum(c["stale"] for c in counts)
            assert all(c["deadLettered"] == summary.dead_lettered for c in counts)


def assert_prediction_holds(doc: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> None:
    def entries(document: dict[str, Any]) -> dict[tuple[str, str, str | None], dict[str, Any]]:
        return {
            (u["id"], s["skuId"], s["assignedByGroup"]): {k: s[k] for k in ("state", "error", "disabledPlans")}
            for u in document["users"]
            for s in u["licenseAssignmentStates"]
        }

    was, now = entries(before), entries(after)
    predicted = {(e["userId"], e["skuId"], e["assignedByGroup"]): e for e in doc["licenseAssignmentStates"]}
    for key in was.keys() | now.keys():
        if key in predicted:
            assert (was.get(key), now.get(key)) == (predicted[key]["before"], predicted[key]["after"])
        else:
            assert was.get(key) == now.get(key), key

    def usage(document: dict[str, Any]) -> dict[str, tuple[int, int]]:
        return {s["skuId"]: (s["consumedUnits"], s["availableUnits"]) for s in document["subscribedSkus"]}

    used_before, used_after = usage(before), usage(after)
    predicted_usage = {s["skuId"]: s for s in doc["subscribedSkus"]}
    for sku_id in used_before.keys() | used_after.keys():
        if sku_id in predicted_usage:
            s = predicted_usage[sku_id]
            assert used_after[sku_id] == (s["consumedUnits"]["after"], s["availableUnits"]["after"])
            was_used = used_before.get(sku_id, (None, None))
            assert was_used == (s["consumedUnits"]["before"], s["availableUnits"]["before"])
        else:
            assert used_before.get(sku_id) == used_after.get(sku_id), sku_id

    new_rejections = after["rejectedCommands"][len(before["rejectedCommands"]) :]
    expected = [{k: r[k] for k in ("eventId", "type", "error", "message")} for r in doc["rejectedCommands"]]
    assert new_rejections == expected

    plans_before, plans_after = enabled_plans(before), enabled_plans(after)
    flips = {u["userId"]: (set(u["gainedPlans"]), set(u["lostPlans"])) for u in doc["users"]}
    for user_id in plans_before.keys() | plans_after.keys():
        was_on, now_on = plans_before.get(user_id, set()), plans_after.get(user_id, set())
        assert flips.get(user_id, (set(), set())) == (now_on - was_on, was_on - now_on), user_id


def enabled_plans(document: dict[str, Any]) -> dict[str, set[str]]:
    """Per user, the names of the plans its assignedLicenses enable."""
    catalog = shipped_catalog()
    enabled: dict[str, set[str]] = {}
    for user in document["users"]:
        names = enabled.setdefault(user["id"], set())
        for lic in user["assignedLicenses"]:
            off = {catalog.resolve_plan(p) for p in lic["disabledPlans"]}
            names |= {catalog.plan_name(b) for b in bits(catalog.skus[lic["skuId"]].plans) if b not in off}
    return enabled
