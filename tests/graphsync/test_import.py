"""`licensing import graph`: a snapshot rebuilds its tenant, a newer one appends only the differences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from processor.demo.generator import generate_demo_events
from processor.embedded import eventlog
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.graphsync.importer import import_snapshot
from projections.export import tenant_document
from tests.graphsync.exported import states
from tests.graphsync.fourth_coffee import ANA, BEN, CHEN, DARA, E1, E3, ELI, G_E3, SWAY, cli, edit, user
from tests.graphsync.graph_json import write_graph_snapshot


def consumed(document: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {s["skuId"]: (s["consumedUnits"], s["prepaidUnits"]["enabled"]) for s in document["subscribedSkus"]}


def logged(db: Path) -> list[tuple[str, str, str]]:
    """(type, time, data) of every logged event, in log order."""
    conn = open_database(db, create=False)
    return [(e["type"], e["time"], e["data"]) for e in (orjson.loads(raw) for _, raw in eventlog.lines(conn))]


def test_first_import_gives_the_seats_to_the_users_entra_applied_first(snapshot_dir: Path, tmp_path: Path) -> None:
    # Chen is the group's first member but Entra applied Ana and Ben first: the two E3 seats are theirs.
    db = tmp_path / "t.db"
    result = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    got = states(tenant_document(open_database(db), "fourth"))
    assert got[ANA] == [(E3, G_E3, "Active", "None", (SWAY,))]
    assert got[BEN] == [(E3, G_E3, "Active", "None", (SWAY,))]
    assert got[CHEN] == [(E3, G_E3, "Error", "CountViolation", (SWAY,))]
    assert got[DARA] == [(E3, G_E3, "Error", "MutuallyExclusiveViolation", (SWAY,)), (E1, None, "Active", "None", ())]
    assert got[ELI] == []
    assert consumed(tenant_document(open_database(db), "fourth"))[E3] == (2, 2)
    assert "rebuilt the tenant" in result.stderr


def test_a_plan_the_catalogue_lacks_is_added_from_subscribed_skus_and_reported(
    snapshot_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "t.db"
    result = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert "added 1 service plans the catalogue lacks (no rules known): VIVAENGAGE_CORE" in result.stderr
    added = [data for kind, _, data in logged(db) if kind == "ServicePlanAdded"]
    assert added == [
        {"skuId": E3, "servicePlanId": "a82fbf69-b4d7-49f4-83a6-915b2cf354f4", "servicePlanName": "VIVAENGAGE_CORE"}
    ]


def test_importing_the_same_snapshot_twice_appends_nothing(snapshot_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    before = logged(db)
    again = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert again.exit_code == 0
    assert "appended the differences, 0 events" in again.stderr
    assert logged(db) == before


def test_seats_bought_but_not_reprocessed_stay_unused(snapshot_dir: Path, tmp_path: Path) -> None:
    # Entra: a third E3 seat was bought after Chen's CountViolation and nobody reprocessed him.
    edit(snapshot_dir, "subscribedSkus.json", lambda skus: skus[0]["prepaidUnits"].update(enabled=3))
    db = tmp_path / "t.db"
    cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    document = tenant_document(open_database(db), "fourth")
    assert states(document)[CHEN] == [(E3, G_E3, "Error", "CountViolation", (SWAY,))]
    assert consumed(document)[E3] == (2, 3)


def test_a_newer_snapshot_appends_only_its_differences(snapshot_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    first = logged(db)
    # A week later: Ben left the baristas and Eli joined, getting Ben's seat; Ana was renamed; E1 got a sixth seat;
    # seats were bought for Chen and Entra reprocessed him.
    edit(snapshot_dir, f"members/{G_E3}.json", lambda m: m.remove({"@odata.type": "#microsoft.graph.user", "id": BEN}))
    edit(snapshot_dir, f"members/{G_E3}.json", lambda m: m.append({"@odata.type": "#microsoft.graph.user", "id": ELI}))
    eli_entry = {
        "assignedByGroup": G_E3,
        "disabledPlans": [SWAY],
        "error": None,
        "lastUpdatedDateTime": "2026-02-09T08:00:00Z",
        "skuId": E3,
        "state": "Active",
    }
    chen_entry = {**eli_entry, "lastUpdatedDateTime": "2026-02-09T12:00:00Z"}

    def week_later(users: list[dict[str, Any]]) -> None:
        user(users, BEN)["licenseAssignmentStates"] = []
        user(users, ELI)["licenseAssignmentStates"] = [eli_entry]
        user(users, CHEN)["licenseAssignmentStates"] = [chen_entry]
        user(users, ANA)["displayName"] = "Ana Silva-Moreau"

    edit(snapshot_dir, "users.json", week_later)
    edit(snapshot_dir, "subscribedSkus.json", lambda skus: skus[0]["prepaidUnits"].update(enabled=3))
    edit(snapshot_dir, "subscribedSkus.json", lambda skus: skus[1]["prepaidUnits"].update(enabled=6))
    (snapshot_dir / "snapshot.json").write_text(json.dumps({"takenAt": "2026-02-09T18:00:00Z"}))

    result = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    log = logged(db)
    assert log[: len(first)] == first
    assert log[len(first) :] == [
        ("SubscriptionChanged", "2026-02-09T18:00:00Z", {"skuId": E1, "prepaidUnits": _units(6)}),
        ("SubscriptionChanged", "2026-02-09T18:00:00Z", {"skuId": E3, "prepaidUnits": _units(3)}),
        ("UserUpdated", "2026-02-09T18:00:00Z", {"userId": ANA, "displayName": "Ana Silva-Moreau"}),
        ("GroupMemberRemoved", "2026-02-09T18:00:00Z", {"groupId": G_E3, "memberId": BEN}),
        ("GroupMemberAdded", "2026-02-09T08:00:00Z", {"groupId": G_E3, "memberId": ELI, "memberType": "user"}),
        ("LicenseReprocessRequested", "2026-02-09T12:00:00Z", {"userId": CHEN}),
    ]
    got = states(tenant_document(open_database(db), "fourth"))
    assert got[BEN] == [] and got[ELI] == got[CHEN] == [(E3, G_E3, "Active", "None", (SWAY,))]
    check = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(db), "--json")
    assert check.exit_code == 0, check.stdout


def test_the_demo_tenant_survives_a_round_trip_through_graph_json(tmp_path: Path) -> None:
    original = open_database(tmp_path / "original.db")
    events = generate_demo_events(users=400, seed=5)
    EmbeddedRuntime(original).ingest((f"demo:{n}", orjson.dumps(e)) for n, e in enumerate(events))
    document = write_graph_snapshot(original, "contoso", tmp_path / "snapshot")
    copy = open_database(tmp_path / "copy.db")
    import_snapshot(copy, tmp_path / "snapshot", "contoso")
    imported = tenant_document(copy, "contoso")
    assert states(imported) == states(document)
    assert consumed(imported) == consumed(document)
    kinds = {(s[2], s[3]) for entries in states(document).values() for s in entries}
    assert {("ActiveWithError", "DependencyViolation"), ("Error", "UniquenessViolation")} <= kinds  # the hard cases
    assert {("ActiveWithError", "ProhibitedInUsageLocationViolation"), ("Error", "Other")} <= kinds
    assert import_snapshot(copy, tmp_path / "snapshot", "contoso").events == 0


def _units(enabled: int) -> dict[str, int]:
    return {"enabled": enabled, "warning": 0, "suspended": 0, "lockedOut": 0}


def test_an_assignment_our_rules_refuse_is_not_asked_again(snapshot_dir: Path, tmp_path: Path) -> None:
    # Entra shows Eli, who has no usage location, holding E1 directly: our direct path refuses that.
    entry = {"assignedByGroup": None, "disabledPlans": [], "error": "None", "skuId": E1, "state": "Active"}
    edit(snapshot_dir, "users.json", lambda users: user(users, ELI)["licenseAssignmentStates"].append(entry))
    db = tmp_path / "t.db"
    cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert tenant_document(open_database(db), "fourth")["rejectedCommands"][0]["error"] == "InvalidUsageLocation"
    before = logged(db)
    cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert logged(db) == before


def test_a_reimport_after_other_events_appends_under_fresh_ids(snapshot_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    live = tmp_path / "live.jsonl"
    live.write_text(
        '{"specversion":"1.0","id":"hr-7","source":"/hr-sync","type":"GroupMemberRemoved","time":"2026-02-03T08:00:00Z",'
        f'"tenant":"fourth","data":{{"groupId":"{G_E3}","memberId":"{ANA}"}}}}\n'
    )
    cli("ingest", str(live), "--db", str(db))
    again = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert "accepted 1, duplicates 0" in again.stderr  # Ana's membership, as the snapshot still shows it
    assert logged(db)[-1][0] == "GroupMemberAdded"
