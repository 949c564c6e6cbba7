"""Graph routes over plain HTTP against a running `licensing serve`: the user filters, group members, the audit log,
Reprocess (Graph's user action, and the extensions for a group and for every user in error), and a command retried
with the same client-request-id, decided once."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import TENANT, Server, export, licensing, stop_server
from tests.api.graph_client import graph_client

GRAPH = f"/tenants/{TENANT}/v1.0"
EVENTUAL = {"ConsistencyLevel": "eventual"}


def all_pages(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = client.get(url, headers=headers).json()
    items += page["value"]
    while "@odata.nextLink" in page:
        page = client.get(page["@odata.nextLink"], headers=headers).json()
        items += page["value"]
    return items


def active_users(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [u for u in document["users"] if not u["deleted"]]


def test_user_filters_keep_what_the_export_says(demo_server: Server) -> None:
    document = export(demo_server.db)
    e3 = next(s["skuId"] for s in document["subscribedSkus"] if s["skuPartNumber"] == "ENTERPRISEPACK")
    with demo_server.client() as client:
        holding = all_pages(client, f"{GRAPH}/users?$top=999&$filter=assignedLicenses/any(x:x/skuId eq {e3})")
        unlicensed_page = client.get(
            f"{GRAPH}/users?$top=999&$count=true&$filter=assignedLicenses/$count eq 0", headers=EVENTUAL
        ).json()
        named = all_pages(client, f"{GRAPH}/users?$select=id,displayName&$filter=startswith(displayName,'an')")
    users = active_users(document)
    assert [u["id"] for u in holding] == [
        u["id"] for u in users if any(a["skuId"] == e3 for a in u["assignedLicenses"])
    ]
    unlicensed = [u["id"] for u in users if not u["assignedLicenses"]]
    assert [u["id"] for u in unlicensed_page["value"]] == unlicensed and unlicensed_page["@odata.count"] == len(
        unlicensed
    )
    assert named and all(u["displayName"].lower().startswith("an") for u in named)


def membership_from_the_log(events_file: Path, group_id: str) -> set[str]:
    members: set[str] = set()
    for line in events_file.read_bytes().splitlines():
        event = json.loads(line)
        if event["data"].get("groupId") != group_id:
            continue
        if event["type"] == "GroupMemberAdded":
            members.add(event["data"]["memberId"])
        elif event["type"] == "GroupMemberRemoved":
            members.discard(event["data"]["memberId"])
    return members


async def test_group_members_are_those_the_log_added(demo_server: Server, demo_events_file: Path) -> None:
    document = export(demo_server.db)
    group = next(g for g in document["groups"] if g["displayName"] == "Project Managers")
    active = {u["id"] for u in active_users(document)}
    client = graph_client(demo_server.graph())
    page = await client.groups.by_group_id(group["id"]).members.get()
    members = list(page.value)
    while page.odata_next_link:
        page = await client.groups.by_group_id(group["id"]).members.with_url(page.odata_next_link).get()
        members += page.value
    assert [m.id for m in members] == sorted(membership_from_the_log(demo_events_file, group["id"]) & active)
    assert len(members) > 10  # more members than PROJECTPROFESSIONAL seats: the demo's CountViolation


def test_directory_audits_are_the_audit_records(demo_server: Server) -> None:
    with demo_server.client() as client:
        every = all_pages(client, f"{GRAPH}/auditLogs/directoryAudits?$top=500")
        set_licence = all_pages(
            client, f"{GRAPH}/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Set group license'"
        )
    conn = sqlite3.connect(demo_server.db)
    try:
        stored = conn.execute(
            "SELECT decision_id, activity FROM audit_log WHERE tenant = ? ORDER BY position, decision_id", (TENANT,)
        ).fetchall()
    finally:
        conn.close()
    assert [(a["id"], a["activityDisplayName"]) for a in every] == stored
    assert [a["id"] for a in set_licence] == [i for i, activity in stored if activity == "Set group license"]
    failed = [a for a in every if a["result"] == "failure"]
    assert failed and all(a["resultReason"] and a["category"] == "UserManagement" for a in failed)


def post_event(client: httpx.Client, event_id: str, event_type: str, data: dict[str, Any]) -> None:
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/billing",
        "type": event_type,
        "time": "2026-03-01T00:00:00Z",
        "tenant": TENANT,
        "data": data,
    }
    answer = client.post("/events", json=event, headers={"content-type": "application/cloudevents+json"})
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text


def errors_of(document: dict[str, Any], sku_part_number: str) -> list[str]:
    return [
        u["id"]
        for u in document["users"]
        if any(s["skuPartNumber"] == sku_part_number and s["state"] != "Active" for s in u["licenseAssignmentStates"])
    ]


async def test_reprocess_clears_errors_after_seats_are_bought(own_server: Server) -> None:
    before = export(own_server.db)
    it_group = next(g for g in before["groups"] if g["displayName"] == "IT & Executives - E3 + EMS E5")
    assert it_group["membersWithLicenseErrors"]
    project_errors = errors_of(before, "PROJECTPROFESSIONAL")
    assert project_errors
    with own_server.client() as client:
        for sku in ("EMSPREMIUM", "PROJECTPROFESSIONAL", "ENTERPRISEPACK"):
            post_event(client, f"buy-{sku}", "SubscriptionChanged", {"skuId": sku, "prepaidUnits": {"enabled": 5000}})
        bought = export(own_server.db)
        assert errors_of(bought, "EMSPREMIUM") == errors_of(before, "EMSPREMIUM")  # faithful: no automatic retry

        group_answer = client.post(f"{GRAPH}/groups/{it_group['id']}/licensing.reprocessLicenseAssignment")
        assert group_answer.status_code == 202 and group_answer.json()["id"] == it_group["id"]
        after_group = export(own_server.db)
        (it_now,) = [g for g in after_group["groups"] if g["id"] == it_group["id"]]
        assert (
            it_now["membersWithLicenseErrors"] == [] and errors_of(after_group, "PROJECTPROFESSIONAL") == project_errors
        )

        one = project_errors[0]
        user = await graph_client(own_server.graph()).users.by_user_id(one).reprocess_license_assignment.post()
        assert user.id == one
        assert errors_of(export(own_server.db), "PROJECTPROFESSIONAL") == project_errors[1:]

        by_sku = client.post(f"{GRAPH}/users/licensing.reprocessUsersInError", json={"skuId": "PROJECTPROFESSIONAL"})
        assert by_sku.status_code == 202 and by_sku.json() == {"requested": len(project_errors) - 1, "decided": True}
        assert errors_of(export(own_server.db), "PROJECTPROFESSIONAL") == []

        left = export(own_server.db)
        still = set(errors_of(left, "MCOPSTN1")) | set(errors_of(left, "ENTERPRISEPACK"))  # what seats do not fix
        every = client.post(f"{GRAPH}/users/licensing.reprocessUsersInError")
        assert every.status_code == 202 and every.json()["requested"] == len(still)


def dead_letters(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0])


def test_a_command_retried_with_its_client_request_id_is_decided_once(own_server: Server) -> None:
    """Answered as the first time, and not logged again: no second event, no dead letter for the retry."""
    before = export(own_server.db)
    dead_before = dead_letters(own_server.db)
    sku = next(s for s in before["subscribedSkus"] if s["skuPartNumber"] == "EMSPREMIUM")
    user = next(u for u in active_users(before) if u["usageLocation"] and not u["assignedLicenses"])
    body = {"addLicenses": [{"skuId": sku["skuId"]}], "removeLicenses": []}
    retry = {"client-request-id": "5d0c7f8e-3a41-4a55-9d5e-0c1f2a3b4c5d"}
    with own_server.client() as client:
        url = f"{GRAPH}/users/{user['id']}/assignLicense"
        first, second = (client.post(url, json=body, headers=retry) for _ in range(2))
        other = client.post(url, json=body)  # a new request: decided again
    assert first.status_code == second.status_code == other.status_code == 400
    assert first.json()["error"]["message"] == second.json()["error"]["message"]
    assert second.headers["client-request-id"] == retry["client-request-id"]
    added = export(own_server.db)["rejectedCommands"][len(before["rejectedCommands"]) :]
    assert [r["eventId"] for r in added][0] == retry["client-request-id"] and len(added) == 2
    assert dead_letters(own_server.db) == dead_before


def test_events_another_process_logs_meanwhile_are_decided_upon(own_server: Server, tmp_path: Path) -> None:
    """`licensing ingest` beside the server: the server's next command is decided on the state they made, and
    replaying the log afterwards gives the very state the server left."""
    before = export(own_server.db)
    sku = next(s for s in before["subscribedSkus"] if s["skuPartNumber"] == "EMSPREMIUM")
    user = next(u for u in active_users(before) if u["usageLocation"] and not u["assignedLicenses"])
    seats = {
        "specversion": "1.0",
        "id": "seats-from-billing",
        "source": "/billing",
        "type": "SubscriptionChanged",
        "time": "2026-03-01T00:00:00Z",
        "tenant": TENANT,
        "data": {"skuId": "EMSPREMIUM", "prepaidUnits": {"enabled": sku["prepaidUnits"]["enabled"] + 10}},
    }
    (tmp_path / "seats.jsonl").write_text(json.dumps(seats) + "\n")
    ingested = licensing("ingest", str(tmp_path / "seats.jsonl"), "--db", str(own_server.db))
    assert ingested.returncode == 0, ingested.stderr
    with own_server.client() as client:
        body = {"addLicenses": [{"skuId": sku["skuId"]}], "removeLicenses": []}
        assigned = client.post(f"{GRAPH}/users/{user['id']}/assignLicense", json=body)
    assert assigned.status_code == 200, assigned.text  # a seat bought by the other process

    live = export(own_server.db)
    stop_server(own_server)
    copy = tmp_path / "replayed.db"
    copy.write_bytes(own_server.db.read_bytes())
    wal = Path(f"{own_server.db}-wal")
    if wal.exists():
        Path(f"{copy}-wal").write_bytes(wal.read_bytes())
    replayed = licensing("replay", "--db", str(copy))
    assert replayed.returncode == 0, replayed.stderr
    assert export(copy) == live
