"""`licensing conformance`: a snapshot edited to hold known disagreements reports exactly those, classified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.graphsync.fourth_coffee import ANA, BEN, CHEN, DARA, E3, ELI, G_E3, SWAY, cli, edit, user


def _imported(snapshot_dir: Path, tmp_path: Path) -> Path:
    db = tmp_path / "t.db"
    assert cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db)).exit_code == 0
    return db


def test_known_disagreements_are_reported_and_classified(snapshot_dir: Path, tmp_path: Path) -> None:
    db = _imported(snapshot_dir, tmp_path)

    def disagree(users: list[dict[str, Any]]) -> None:
        chen = user(users, CHEN)["licenseAssignmentStates"][0]
        chen.update(state="Active", error="None")  # Entra applied what our rules put in CountViolation
        user(users, DARA)["licenseAssignmentStates"][1]["error"] = "DependencyViolation"  # another error code
        user(users, BEN)["licenseAssignmentStates"] = []  # an entry Entra does not have
        user(users, ANA)["licenseAssignmentStates"][0]["disabledPlans"] = []  # other plans disabled

    edit(snapshot_dir, "users.json", disagree)
    result = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(db), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    found = {(d["userId"], d["class"]): d for d in report["differences"]}
    assert set(found) == {
        (CHEN, "oursErrorEntraActive"),
        (DARA, "differentError"),
        (BEN, "onlyOurs"),
        (ANA, "differentDisabledPlans"),
    }
    chen = found[(CHEN, "oursErrorEntraActive")]
    assert chen["skuId"] == E3 and chen["assignedByGroup"] == G_E3
    assert chen["ours"] == {"state": "Error", "error": "CountViolation", "disabledPlans": [SWAY]}
    assert chen["entra"] == {"state": "Active", "error": "None", "disabledPlans": [SWAY]}
    assert chen["why"].startswith("our rules: ")
    assert found[(BEN, "onlyOurs")]["entra"] is None
    assert found[(ANA, "differentDisabledPlans")]["why"] == "only ours disables SWAY"
    totals = report["totals"]
    assert totals["differences"] == 4 and totals["byGroup"] == {G_E3: 4}
    assert totals["byClass"]["oursErrorEntraActive"] == totals["byClass"]["differentError"] == 1
    assert totals["byClass"]["onlyEntra"] == 0


def test_an_entry_older_than_a_change_in_our_log_is_a_pending_reprocess(snapshot_dir: Path, tmp_path: Path) -> None:
    db = _imported(snapshot_dir, tmp_path)
    later = '{"specversion":"1.0","id":"hr-1","source":"/hr-sync","type":"GroupMemberRemoved",'
    later += f'"time":"2026-02-03T10:00:00Z","tenant":"fourth","data":{{"groupId":"{G_E3}","memberId":"{ANA}"}}}}'
    events = tmp_path / "hr.jsonl"
    events.write_text(later + "\n")
    assert cli("ingest", str(events), "--db", str(db)).exit_code == 0
    result = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(db), "--json")
    (difference,) = [d for d in json.loads(result.stdout)["differences"] if d["userId"] == ANA]
    assert difference["class"] == "onlyEntra"
    assert difference["why"] == (
        "Entra's entry (2026-02-02T09:10:00Z) is older than the membership change at 2026-02-03T10:00:00Z: "
        "a reprocess is pending"
    )


def test_a_group_entra_is_still_processing(snapshot_dir: Path, tmp_path: Path) -> None:
    db = _imported(snapshot_dir, tmp_path)
    edit(snapshot_dir, f"members/{G_E3}.json", lambda m: m.append({"@odata.type": "#microsoft.graph.user", "id": ELI}))
    edit(snapshot_dir, "groups.json", lambda g: g[0].update(licenseProcessingState={"state": "QueuedForProcessing"}))
    cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    result = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(db), "--json")
    (difference,) = json.loads(result.stdout)["differences"]
    assert (difference["userId"], difference["class"]) == (ELI, "onlyOurs")
    assert difference["why"] == f"Entra is still processing group {G_E3} (QueuedForProcessing)"


def test_the_table_and_the_exit_status(snapshot_dir: Path, tmp_path: Path) -> None:
    db = _imported(snapshot_dir, tmp_path)
    same = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert same.exit_code == 0
    assert "5 users, 5 entries ours, 5 Entra's: 0 differences" in same.stdout
    edit(snapshot_dir, "users.json", lambda users: user(users, BEN).update(licenseAssignmentStates=[]))
    differ = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert differ.exit_code == 1
    assert "onlyOurs" in differ.stdout and "Totals per group" in differ.stdout


def test_an_unknown_tenant_or_database_is_one_line_and_status_2(snapshot_dir: Path, tmp_path: Path) -> None:
    db = _imported(snapshot_dir, tmp_path)
    unknown = cli("conformance", str(snapshot_dir), "--tenant", "nobody", "--db", str(db))
    assert (unknown.exit_code, unknown.stderr) == (2, "licensing: unknown tenant 'nobody'\n")
    missing = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(tmp_path / "none.db"))
    assert (missing.exit_code, missing.stderr) == (2, f"licensing: no licensing database at {tmp_path / 'none.db'}\n")
