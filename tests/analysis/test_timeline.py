"""timeline: every change of a user's or a group's members' entries, in log order, with its cause (SPEC §6.13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given

from processor.analysis.timeline import timeline
from projections.export import tenant_document
from tests.analysis.tenant import LoggedTenant, store_of
from tests.properties.test_properties import PROPERTY_SETTINGS, streams


def steps(doc: dict[str, Any]) -> list[tuple[str, str, str, str | None, str | None, str | None]]:
    """(user, product, event type, previous state, state, error) of each change."""
    return [
        (c["userId"], c["skuPartNumber"], c["eventType"], c["previousState"], c["state"], c["error"])
        for c in doc["changes"]
    ]


def test_s14_a_user_waiting_for_a_seat_then_healed_by_a_group_reprocess(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1", "u2", "u3", "u4", "u5")
    joined = t.events[-2]["id"]
    t.capacity("E3", 4)
    t.reprocess_group("G_E3")
    healed = t.events[-1]

    doc = timeline(t.conn, "contoso", user_id="u4")

    assert steps(doc) == [
        ("u4", "ENTERPRISEPACK", "GroupMemberAdded", None, "Error", "CountViolation"),
        ("u4", "ENTERPRISEPACK", "LicenseReprocessRequested", "Error", "Active", "None"),
    ]
    first, last = doc["changes"]
    assert first["eventId"] == joined and first["reason"] == "no ENTERPRISEPACK seat available"
    assert (last["eventId"], last["time"], last["source"]) == (healed["id"], healed["time"], "/test")
    assert last["assignedByGroup"] == "G_E3" and last["displayName"] == "Dave"


def test_s13_a_group_timeline_keeps_former_members_and_their_other_licences(tmp_path: Path) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.direct("u6", add=["PBI"])
    t.group("G_E3", "E3")
    t.add("G_E3", "u1", "u2", "u3", "u4", "u5", "u6")
    t.remove("G_E3", "u5")
    t.group("G_OTHER", "EMS")
    t.add("G_OTHER", "u2")  # a member of G_E3: its licence from another group is part of the story

    changes = steps(timeline(t.conn, "contoso", group_id="G_E3"))

    assert ("u6", "POWER_BI_PRO", "UserLicensesChanged", None, "Active", "None") in changes
    assert ("u5", "ENTERPRISEPACK", "GroupMemberRemoved", "Error", None, None) in changes  # former member
    assert ("u2", "EMS", "GroupMemberAdded", None, "Active", "None") in changes
    assert {c[0] for c in changes} == {"u1", "u2", "u3", "u4", "u5", "u6"}


@PROPERTY_SETTINGS
@given(streams(max_tenants=2))
def test_a_timeline_ends_in_the_exported_state(stream: list[dict[str, Any]]) -> None:
    with store_of(stream) as (conn, _):
        for tenant in sorted({e["tenant"] for e in stream}):
            document = tenant_document(conn, tenant)
            users = {u["id"] for u in document["users"]} | {
                e["data"]["userId"] for e in stream if e["tenant"] == tenant and "userId" in e["data"]
            }
            for user_id in sorted(users):
                last: dict[tuple[str, str | None], Any] = {}
                for change in timeline(conn, tenant, user_id=user_id)["changes"]:
                    key = (change["skuId"], change["assignedByGroup"])
                    last[key] = None if change["state"] is None else (change["state"], change["error"])
                final = {key: value for key, value in last.items() if value is not None}
                exported = {
                    (s["skuId"], s["assignedByGroup"]): (s["state"], s["error"])
                    for u in document["users"]
                    if u["id"] == user_id
                    for s in u["licenseAssignmentStates"]
                }
                assert final == exported
