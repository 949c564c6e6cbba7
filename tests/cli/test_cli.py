"""The `licensing` command line (CONTRACT §5) through a real subprocess: ingest, export (§6 document), --as-of,
dead letters, duplicate delivery, error exits, replay and $LICENSING_DB."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from processor.embedded import eventlog
from processor.embedded.runtime import decision_rows

LICENSING = Path(sys.executable).parent / "licensing"
CATALOG = json.loads((Path(__file__).resolve().parents[2] / "processor" / "catalog.json").read_text())
PLAN_ID = {p["servicePlanName"]: p["servicePlanId"] for sku in CATALOG["skus"] for p in sku["servicePlans"]}
SKU_ID = {sku["skuPartNumber"]: sku["skuId"] for sku in CATALOG["skus"]}
T0 = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)

TOP_KEYS = {"tenant", "subscribedSkus", "users", "groups", "rejectedCommands"}
TENANT_KEYS = {"id", "countryLetterCode", "mode", "ruleset"}
SKU_KEYS = {"skuId", "skuPartNumber", "capabilityStatus", "prepaidUnits", "consumedUnits", "availableUnits"}
UNIT_KEYS = {"enabled", "warning", "suspended", "lockedOut"}
USER_KEYS = {"id", "usageLocation", "accountEnabled", "deleted", "assignedLicenses", "licenseAssignmentStates"}
LICENSE_KEYS = {"skuId", "skuPartNumber", "disabledPlans"}
STATE_KEYS = {"skuId", "skuPartNumber", "assignedByGroup", "state", "error", "disabledPlans", "lastUpdatedDateTime"}
GROUP_KEYS = {
    "id",
    "displayName",
    "assignedLicenses",
    "licenseProcessingState",
    "hasMembersWithLicenseErrors",
    "membersWithLicenseErrors",
}
REJECTED_KEYS = {"eventId", "type", "error", "message"}


# ---- helpers -------------------------------------------------------------------------------------------------


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(event_id: str, minutes: float, event_type: str, tenant: str = "contoso", **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/hr-sync",
        "type": event_type,
        "time": at(minutes),
        "tenant": tenant,
        "datacontenttype": "application/json",
        "data": data,
    }


def write_jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LICENSING_DB"}
    env.update(extra)
    return env


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, **options: Any) -> subprocess.CompletedProcess[str]:
    """`licensing *args`, its output captured as text; `options` go to subprocess.run (input=, preexec_fn=, ...)."""
    return subprocess.run(
        [str(LICENSING), *args],
        check=False,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def export(db: Path, tenant: str, cwd: Path, *extra: str) -> dict[str, Any]:
    result = ok(run("export", "--tenant", tenant, "--db", str(db), *extra, cwd=cwd))
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def summary_counts(stderr: str) -> dict[str, int]:
    """The counts of the one-line ingest summary (accepted, duplicates, stale, dead-lettered)."""
    lines = [line for line in stderr.splitlines() if "accepted" in line and "duplicate" in line]
    assert len(lines) == 1, f"expected one summary line on stderr, got: {stderr!r}"
    counts = {}
    for word in ("accepted", "duplicates", "stale", "dead-lettered"):
        match = re.search(rf"{word}\W*(\d+)", lines[0]) or re.search(rf"(\d+)\W*{word}", lines[0])
        assert match, f"{word} missing from summary {lines[0]!r}"
        counts[word] = int(match.group(1))
    return counts


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *mentions: str) -> None:
    assert result.returncode != 0, f"expected failure, got exit 0; stderr: {result.stderr!r}"
    message = result.stderr.strip()
    assert "Traceback" not in result.stderr, result.stderr
    assert len(message.splitlines()) == 1, f"expected a one-line message on stderr, got: {result.stderr!r}"
    for mention in mentions:
        assert mention in message, f"{mention!r} not in {message!r}"


def sorted_guids(*names: str) -> list[str]:
    return sorted(PLAN_ID[n] for n in names)


# ---- the hand-written tenant ---------------------------------------------------------------------------------


def tenant_events() -> list[dict[str, Any]]:
    """contoso: subscriptions, users, groups (created out of id order), a licensed group that runs out of seats
    (group errors), a user holding one SKU from three sources, two rejected direct commands, capacity cut below
    consumption, and a group assigning an unsubscribed SKU."""
    return [
        event("e-01", 0, "TenantConfigured", countryLetterCode="US"),
        event("e-02", 1, "SubscriptionChanged", skuId="POWER_BI_PRO", prepaidUnits={"enabled": 5}),
        event("e-03", 2, "SubscriptionChanged", skuId=SKU_ID["ENTERPRISEPACK"], prepaidUnits={"enabled": 2}),
        event("e-04", 3, "SubscriptionChanged", skuId="EMS", prepaidUnits={"enabled": 1, "warning": 1}),
        event("e-05", 4, "UserCreated", userId="u3", displayName="No Location"),
        event("e-06", 5, "UserCreated", userId="u2", usageLocation="US", proxyAddresses=["SMTP:u2@contoso.com"]),
        event("e-07", 6, "UserCreated", userId="u1", usageLocation="US"),
        event("e-08", 7, "UserCreated", userId="u4", usageLocation="US"),
        event("e-09", 8, "GroupCreated", groupId="G_ZETA", displayName="Zeta"),
        event("e-10", 9, "GroupCreated", groupId="G_ALPHA", displayName="Alpha"),
        event("e-11", 10, "GroupCreated", groupId="G_EMPTY", displayName="Empty"),
        event("e-12", 11, "GroupCreated", groupId="G_BETA", displayName="Beta"),
        event(
            "e-13",
            12,
            "GroupLicensesChanged",
            groupId="G_ZETA",
            addLicenses=[{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY", "YAMMER_ENTERPRISE"]}],
            removeLicenses=[],
        ),
        event("e-14", 13, "GroupMemberAdded", groupId="G_ZETA", memberId="u4"),
        event("e-15", 14, "GroupMemberAdded", groupId="G_ZETA", memberId="u2"),
        event("e-16", 15, "GroupMemberAdded", groupId="G_ZETA", memberId="u3"),  # no seat left
        event("e-17", 15, "GroupMemberAdded", groupId="G_ZETA", memberId="u1"),  # no seat left, same time
        event("e-18", 16, "UserLicensesChanged", userId="u2", addLicenses=[{"skuId": "EMS"}], removeLicenses=[]),
        event(
            "e-19",
            17,
            "UserLicensesChanged",
            userId="u2",
            addLicenses=[{"skuId": "ENTERPRISEPACK", "disabledPlans": []}],
            removeLicenses=[],
        ),
        event(
            "e-20",
            18,
            "GroupLicensesChanged",
            groupId="G_ALPHA",
            addLicenses=[{"skuId": "POWER_BI_PRO"}, {"skuId": "ENTERPRISEPACK"}],
            removeLicenses=[],
        ),
        event("e-21", 19, "GroupMemberAdded", groupId="G_ALPHA", memberId="u2"),
        event("e-22", 20, "GroupLicensesChanged", groupId="G_BETA", addLicenses=[{"skuId": "STANDARDPACK"}]),
        event("e-23", 21, "GroupMemberAdded", groupId="G_EMPTY", memberId="u10"),  # implicit user
        # Rejected direct commands, ids deliberately not in log order.
        event("e-90", 22, "UserLicensesChanged", userId="u3", addLicenses=[{"skuId": "POWER_BI_PRO"}]),
        event("e-100", 23, "UserLicensesChanged", userId="u1", removeLicenses=["ENTERPRISEPACK"]),
        event("e-24", 24, "SubscriptionChanged", skuId="ENTERPRISEPACK", prepaidUnits={"enabled": 1}),
    ]


def check_keys(document: dict[str, Any]) -> None:
    assert set(document) == TOP_KEYS
    assert set(document["tenant"]) == TENANT_KEYS
    for sku in document["subscribedSkus"]:
        assert set(sku) == SKU_KEYS, sku
        assert set(sku["prepaidUnits"]) == UNIT_KEYS, sku
    for user in document["users"]:
        assert set(user) == USER_KEYS, user
        for lic in user["assignedLicenses"]:
            assert set(lic) == LICENSE_KEYS, lic
        for state in user["licenseAssignmentStates"]:
            assert set(state) == STATE_KEYS, state
    for group in document["groups"]:
        assert set(group) == GROUP_KEYS, group
        assert set(group["licenseProcessingState"]) == {"state"}, group
        for lic in group["assignedLicenses"]:
            assert set(lic) == LICENSE_KEYS, lic
    for rejected in document["rejectedCommands"]:
        assert set(rejected) == REJECTED_KEYS, rejected


def check_orders(document: dict[str, Any]) -> None:
    parts = [s["skuPartNumber"] for s in document["subscribedSkus"]]
    assert parts == sorted(parts)
    ids = [u["id"] for u in document["users"]]
    assert ids == sorted(ids)
    for user in document["users"]:
        lics = [lic["skuPartNumber"] for lic in user["assignedLicenses"]]
        assert lics == sorted(lics), user
        keys = [
            (s["skuPartNumber"], s["assignedByGroup"] is not None, s["assignedByGroup"] or "")
            for s in user["licenseAssignmentStates"]
        ]
        assert keys == sorted(keys), user
        for item in user["assignedLicenses"] + user["licenseAssignmentStates"]:
            assert item["disabledPlans"] == sorted(item["disabledPlans"]), item
    group_ids = [g["id"] for g in document["groups"]]
    assert group_ids == sorted(group_ids)
    for group in document["groups"]:
        assert group["membersWithLicenseErrors"] == sorted(group["membersWithLicenseErrors"]), group
        assert group["hasMembersWithLicenseErrors"] == bool(group["membersWithLicenseErrors"]), group
        for lic in group["assignedLicenses"]:
            assert lic["disabledPlans"] == sorted(lic["disabledPlans"]), group
    for sku in document["subscribedSkus"]:
        units = sku["prepaidUnits"]
        assert sku["availableUnits"] == max(0, units["enabled"] + units["warning"] - sku["consumedUnits"]), sku


# ---- (a) ingest + export: the §6 document ----------------------------------------------------------------------


def test_export_document_has_contract_keys_and_sort_orders(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "contoso.jsonl", tenant_events())
    db = tmp_path / "contoso.db"
    result = ok(run("ingest", str(source), "--db", str(db), cwd=tmp_path))
    assert summary_counts(result.stderr) == {
        "accepted": len(tenant_events()),
        "duplicates": 0,
        "stale": 0,
        "dead-lettered": 0,
    }

    document = export(db, "contoso", tmp_path)
    check_keys(document)
    check_orders(document)

    assert document["tenant"] == {
        "id": "contoso",
        "countryLetterCode": "US",
        "mode": "faithful",
        "ruleset": "classic-2019",
    }
    skus = {s["skuPartNumber"]: s for s in document["subscribedSkus"]}
    assert list(skus) == ["EMS", "ENTERPRISEPACK", "POWER_BI_PRO", "STANDARDPACK"]
    assert skus["ENTERPRISEPACK"]["skuId"] == SKU_ID["ENTERPRISEPACK"]
    # capacity cut below consumption: nothing withdrawn, available clamped to 0
    assert (skus["ENTERPRISEPACK"]["consumedUnits"], skus["ENTERPRISEPACK"]["availableUnits"]) == (2, 0)
    assert skus["EMS"]["prepaidUnits"] == {"enabled": 1, "warning": 1, "suspended": 0, "lockedOut": 0}
    assert (skus["EMS"]["consumedUnits"], skus["EMS"]["availableUnits"]) == (1, 1)
    assert (skus["POWER_BI_PRO"]["consumedUnits"], skus["POWER_BI_PRO"]["availableUnits"]) == (1, 4)
    assert skus["STANDARDPACK"]["prepaidUnits"] == {"enabled": 0, "warning": 0, "suspended": 0, "lockedOut": 0}
    assert (skus["STANDARDPACK"]["consumedUnits"], skus["STANDARDPACK"]["availableUnits"]) == (0, 0)

    users = {u["id"]: u for u in document["users"]}
    assert list(users) == ["u1", "u10", "u2", "u3", "u4"]
    assert users["u3"]["usageLocation"] is None and users["u2"]["usageLocation"] == "US"
    assert all(u["accountEnabled"] is True and u["deleted"] is False for u in users.values())

    u2 = users["u2"]
    assert [(s["skuPartNumber"], s["assignedByGroup"], s["state"]) for s in u2["licenseAssignmentStates"]] == [
        ("EMS", None, "Active"),
        ("ENTERPRISEPACK", None, "Active"),
        ("ENTERPRISEPACK", "G_ALPHA", "Active"),
        ("ENTERPRISEPACK", "G_ZETA", "Active"),
        ("POWER_BI_PRO", "G_ALPHA", "Active"),
    ]
    # union of plans (SPEC §2.7): the direct and G_ALPHA entries enable what G_ZETA disables
    assert u2["assignedLicenses"] == [
        {"skuId": SKU_ID["EMS"], "skuPartNumber": "EMS", "disabledPlans": []},
        {"skuId": SKU_ID["ENTERPRISEPACK"], "skuPartNumber": "ENTERPRISEPACK", "disabledPlans": []},
        {"skuId": SKU_ID["POWER_BI_PRO"], "skuPartNumber": "POWER_BI_PRO", "disabledPlans": []},
    ]
    zeta_disabled = sorted_guids("SWAY", "YAMMER_ENTERPRISE")
    assert zeta_disabled != [PLAN_ID["SWAY"], PLAN_ID["YAMMER_ENTERPRISE"]]  # the input order is not sorted
    assert users["u4"]["assignedLicenses"] == [
        {"skuId": SKU_ID["ENTERPRISEPACK"], "skuPartNumber": "ENTERPRISEPACK", "disabledPlans": zeta_disabled}
    ]
    assert users["u4"]["licenseAssignmentStates"] == [
        {
            "skuId": SKU_ID["ENTERPRISEPACK"],
            "skuPartNumber": "ENTERPRISEPACK",
            "assignedByGroup": "G_ZETA",
            "state": "Active",
            "error": "None",
            "disabledPlans": zeta_disabled,
            "lastUpdatedDateTime": at(13),  # the time of the event, never the wall clock
        }
    ]
    for user_id in ("u1", "u3"):
        assert [(s["assignedByGroup"], s["state"], s["error"]) for s in users[user_id]["licenseAssignmentStates"]] == [
            ("G_ZETA", "Error", "CountViolation")
        ]
        assert users[user_id]["assignedLicenses"] == []
    assert users["u10"]["assignedLicenses"] == [] and users["u10"]["licenseAssignmentStates"] == []

    groups = {g["id"]: g for g in document["groups"]}
    assert list(groups) == ["G_ALPHA", "G_BETA", "G_EMPTY", "G_ZETA"]
    assert groups["G_ZETA"]["displayName"] == "Zeta"
    assert groups["G_ZETA"]["hasMembersWithLicenseErrors"] is True
    assert groups["G_ZETA"]["membersWithLicenseErrors"] == ["u1", "u3"]  # failed in the order u3, u1
    assert groups["G_ZETA"]["assignedLicenses"] == [
        {"skuId": SKU_ID["ENTERPRISEPACK"], "skuPartNumber": "ENTERPRISEPACK", "disabledPlans": zeta_disabled}
    ]
    assert groups["G_ZETA"]["licenseProcessingState"] == {"state": "ProcessingComplete"}
    for group_id in ("G_ALPHA", "G_BETA", "G_EMPTY"):
        assert groups[group_id]["hasMembersWithLicenseErrors"] is False
        assert groups[group_id]["membersWithLicenseErrors"] == []
    assert groups["G_EMPTY"]["assignedLicenses"] == []

    rejected = document["rejectedCommands"]
    assert [(r["eventId"], r["type"], r["error"]) for r in rejected] == [
        ("e-90", "UserLicensesChanged", "InvalidUsageLocation"),
        ("e-100", "UserLicensesChanged", "InheritedLicense"),
    ]
    assert all(isinstance(r["message"], str) and r["message"] for r in rejected)


# ---- (b) --as-of ------------------------------------------------------------------------------------------------


def test_export_as_of_is_the_state_after_the_events_up_to_that_time(tmp_path: Path) -> None:
    events = tenant_events()
    # a late arrival: logged last, but it happened before the cut
    events.append(event("e-late", 14.5, "GroupMemberAdded", groupId="G_ALPHA", memberId="u4"))
    full_db = tmp_path / "full.db"
    ok(run("ingest", str(write_jsonl(tmp_path / "all.jsonl", events)), "--db", str(full_db), cwd=tmp_path))

    cut = at(15)  # e-16 and e-17 happened exactly at the cut: included
    prefix = [e for e in events if e["time"] <= cut]
    assert [e["id"] for e in prefix][-3:] == ["e-16", "e-17", "e-late"]
    prefix_db = tmp_path / "prefix.db"
    ok(run("ingest", str(write_jsonl(tmp_path / "prefix.jsonl", prefix)), "--db", str(prefix_db), cwd=tmp_path))
    expected = export(prefix_db, "contoso", tmp_path)

    as_of = export(full_db, "contoso", tmp_path, "--as-of", cut)
    assert as_of == expected
    # the same instant written with an offset
    assert export(full_db, "contoso", tmp_path, "--as-of", "2026-01-05T11:15:00+01:00") == expected
    # and the cut matters: the live document is different, and so is a cut one second earlier
    assert export(full_db, "contoso", tmp_path) != expected
    earlier = export(full_db, "contoso", tmp_path, "--as-of", "2026-01-05T10:14:59Z")
    assert {u["id"] for u in earlier["users"]} == {"u1", "u2", "u3", "u4"}
    zeta = next(g for g in earlier["groups"] if g["id"] == "G_ZETA")
    assert zeta["membersWithLicenseErrors"] == []  # u3 and u1 joined at 10:15
    zeta_now = next(g for g in as_of["groups"] if g["id"] == "G_ZETA")
    assert zeta_now["membersWithLicenseErrors"] == ["u1", "u3"]


# ---- (c) dead letters and duplicates ----------------------------------------------------------------------------


DEEP = 50_000


def bad_lines() -> dict[str, tuple[bytes, Any]]:
    """name -> (raw line, predicate on the dead-letter reason)."""
    good_user = event("x", 30, "UserCreated", tenant="fabrikam", userId="u9", usageLocation="US")

    def without(attribute: str, user_id: str) -> bytes:
        body = dict(good_user, id=f"no-{attribute}", data={"userId": user_id, "usageLocation": "US"})
        del body[attribute]
        return json.dumps(body).encode()

    wrong_units = event("bad-units", 31, "SubscriptionChanged", tenant="fabrikam", skuId="ENTERPRISEPACK")
    wrong_units["data"]["prepaidUnits"] = {"enabled": "3"}
    wrong_member = event("bad-member", 32, "GroupMemberAdded", tenant="fabrikam", groupId="G1", memberId=42)
    unknown = event("bad-type", 33, "UserTeleported", tenant="fabrikam", userId="u1")
    return {
        "json": (b'{"specversion": "1.0", "id": "bad-json", "type": "UserCreated", "tenant": "fab', _has("json")),
        # nested deeper than any JSON parser here recurses: still a dead letter, not a crash
        "deep": (b'{"id": "bad-deep", "tenant": "fabrikam", "data": ' + b"[" * DEEP + b"]" * DEEP + b"}", _has("json")),
        "type": (json.dumps(unknown).encode(), lambda r: "UserTeleported" in r or "unknown" in r.lower()),
        "units": (json.dumps(wrong_units).encode(), _has("enabled")),
        "member": (json.dumps(wrong_member).encode(), _has("memberid")),
        "tenant": (without("tenant", "u7"), _has("tenant")),
        "id": (without("id", "u8"), lambda r: re.search(r"\bid\b", r) is not None),
        "time": (without("time", "u6"), _has("time")),
    }


def _has(word: str) -> Any:
    return lambda reason: word in reason.lower()


def fabrikam_lines() -> tuple[list[bytes], dict[str, tuple[bytes, Any]]]:
    def line(event_id: str, minutes: float, event_type: str, **data: Any) -> bytes:
        return json.dumps(event(event_id, minutes, event_type, tenant="fabrikam", **data)).encode()

    duplicate = line("dup-1", 6, "GroupMemberAdded", groupId="G1", memberId="u2")
    bad = bad_lines()
    lines = [
        line("f-1", 0, "TenantConfigured", countryLetterCode="US"),
        bad["json"][0],
        line("f-2", 1, "SubscriptionChanged", skuId="ENTERPRISEPACK", prepaidUnits={"enabled": 2}),
        line("f-3", 2, "UserCreated", userId="u1", usageLocation="US"),
        bad["type"][0],
        line("f-4", 3, "GroupCreated", groupId="G1"),
        bad["units"][0],
        line("f-5", 4, "GroupLicensesChanged", groupId="G1", addLicenses=[{"skuId": "ENTERPRISEPACK"}]),
        bad["member"][0],
        line("f-6", 5, "GroupMemberAdded", groupId="G1", memberId="u1"),
        bad["tenant"][0],
        duplicate,
        bad["id"][0],
        duplicate,  # the same event delivered twice (SPEC S56)
        bad["time"][0],
        bad["deep"][0],
    ]
    return lines, bad


def test_malformed_lines_are_dead_lettered_and_the_rest_applied(tmp_path: Path) -> None:
    lines, bad = fabrikam_lines()
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "fabrikam.db"

    first = ok(run("ingest", str(source), "--db", str(db), cwd=tmp_path))
    assert summary_counts(first.stderr) == {"accepted": 7, "duplicates": 1, "stale": 0, "dead-lettered": 8}

    conn = sqlite3.connect(db)
    try:
        letters = conn.execute("SELECT reason, body FROM dead_letters").fetchall()
        bodies = {bytes(body) if not isinstance(body, bytes) else body: reason for reason, body in letters}
        assert len(letters) == 8
        assert set(bodies) == {raw for raw, _ in bad.values()}  # the original bytes
        for name, (raw, mentions_problem) in bad.items():
            assert mentions_problem(bodies[raw]), f"{name}: reason {bodies[raw]!r} does not name the problem"
        assert [entry[2] for entry in eventlog.entries(conn)].count("dup-1") == 1
        ids = [json.loads(body)["id"] for _, _, body in decision_rows(conn)]
        dup_outputs = [i for i in ids if i.startswith("dup-1#")]
        assert dup_outputs and len(dup_outputs) == len(set(dup_outputs))  # decided once
        decisions_before = list(decision_rows(conn))
    finally:
        conn.close()

    document = export(db, "fabrikam", tmp_path)
    users = {u["id"]: u for u in document["users"]}
    assert set(users) == {"u1", "u2"}  # u6/u7/u8 lines were malformed, memberId 42 never applied
    assert [(s["assignedByGroup"], s["state"]) for s in users["u2"]["licenseAssignmentStates"]] == [("G1", "Active")]
    e3 = next(s for s in document["subscribedSkus"] if s["skuPartNumber"] == "ENTERPRISEPACK")
    assert (e3["prepaidUnits"]["enabled"], e3["consumedUnits"]) == (2, 2)  # "3" as a string was not applied
    assert document["rejectedCommands"] == []

    second = ok(run("ingest", str(source), "--db", str(db), cwd=tmp_path))
    counts = summary_counts(second.stderr)
    assert (counts["accepted"], counts["duplicates"], counts["stale"]) == (0, 8, 0)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 8
        assert list(decision_rows(conn)) == decisions_before
    finally:
        conn.close()
    assert export(db, "fabrikam", tmp_path) == document


# ---- (d) failures ----------------------------------------------------------------------------------------------


def test_ingest_of_a_missing_file_fails_with_one_line(tmp_path: Path) -> None:
    result = run("ingest", "missing.jsonl", "--db", str(tmp_path / "x.db"), cwd=tmp_path)
    assert_one_line_failure(result, "missing.jsonl")


def test_ingest_of_an_unreadable_input_fails_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "events.d"  # a directory is not a readable JSON Lines file
    folder.mkdir()
    result = run("ingest", str(folder), "--db", str(tmp_path / "x.db"), cwd=tmp_path)
    assert_one_line_failure(result, "events.d")


def test_export_with_a_missing_database_fails_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "nothing.db"
    result = run("export", "--tenant", "contoso", "--db", str(db), cwd=tmp_path)
    assert_one_line_failure(result, "nothing.db")
    assert result.stdout == ""
    assert not db.exists()


def test_export_of_an_unknown_tenant_fails_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "contoso.db"
    ok(run("ingest", str(write_jsonl(tmp_path / "c.jsonl", tenant_events())), "--db", str(db), cwd=tmp_path))
    result = run("export", "--tenant", "woodgrove", "--db", str(db), cwd=tmp_path)
    assert_one_line_failure(result, "woodgrove")
    assert result.stdout == ""


def test_export_with_an_invalid_as_of_time_fails_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "contoso.db"
    ok(run("ingest", str(write_jsonl(tmp_path / "c.jsonl", tenant_events())), "--db", str(db), cwd=tmp_path))
    result = run("export", "--tenant", "contoso", "--db", str(db), "--as-of", "yesterday", cwd=tmp_path)
    assert_one_line_failure(result)


def test_replay_with_a_missing_database_fails_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "nothing.db"
    result = run("replay", "--db", str(db), cwd=tmp_path)
    assert_one_line_failure(result, "nothing.db")
    assert not db.exists()


# ---- (e) replay ------------------------------------------------------------------------------------------------


def test_replay_keeps_the_export_identical(tmp_path: Path) -> None:
    db = tmp_path / "contoso.db"
    events = tenant_events() + [
        dict(e, tenant="fabrikam")
        for e in tenant_events()[:12]  # a second tenant reusing the same ids
    ]
    ok(run("ingest", str(write_jsonl(tmp_path / "c.jsonl", events)), "--db", str(db), cwd=tmp_path))
    before = {
        t: ok(run("export", "--tenant", t, "--db", str(db), cwd=tmp_path)).stdout for t in ("contoso", "fabrikam")
    }
    conn = sqlite3.connect(db)
    decisions = list(decision_rows(conn))
    conn.close()
    assert decisions

    for _ in range(2):
        ok(run("replay", "--db", str(db), cwd=tmp_path))
        after = {t: ok(run("export", "--tenant", t, "--db", str(db), cwd=tmp_path)).stdout for t in before}
        assert after == before  # compared as text
        conn = sqlite3.connect(db)
        replayed = list(decision_rows(conn))
        conn.close()
        assert replayed == decisions


# ---- (f) $LICENSING_DB -----------------------------------------------------------------------------------------


def test_licensing_db_environment_variable_is_honoured(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    env_db = tmp_path / "env" / "from-env.db"
    env_db.parent.mkdir()
    env = clean_env(LICENSING_DB=str(env_db))
    source = write_jsonl(tmp_path / "c.jsonl", tenant_events())

    ok(run("ingest", str(source), cwd=workdir, env=env))
    assert env_db.exists()
    assert not (workdir / "licensing.db").exists()

    via_env = json.loads(ok(run("export", "--tenant", "contoso", cwd=workdir, env=env)).stdout)
    assert via_env == export(env_db, "contoso", workdir)
    assert [u["id"] for u in via_env["users"]] == ["u1", "u10", "u2", "u3", "u4"]
    ok(run("replay", cwd=workdir, env=env))
    assert json.loads(ok(run("export", "--tenant", "contoso", cwd=workdir, env=env)).stdout) == via_env

    # --db wins over the variable
    other = tmp_path / "other.db"
    assert_one_line_failure(run("export", "--tenant", "contoso", "--db", str(other), cwd=workdir, env=env))
    wrong_env = clean_env(LICENSING_DB=str(tmp_path / "nowhere.db"))
    assert (
        json.loads(ok(run("export", "--tenant", "contoso", "--db", str(env_db), cwd=workdir, env=wrong_env)).stdout)
        == via_env
    )

    # neither: ./licensing.db
    ok(run("ingest", str(source), cwd=workdir, env=clean_env()))
    assert (workdir / "licensing.db").exists()
