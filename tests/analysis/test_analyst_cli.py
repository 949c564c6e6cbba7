"""The analyst's commands through a real `licensing` process: tables with names, stable JSON, CSV, files that
`ingest` takes, and one-line errors without a traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.analysis.tenant import PLAN_ID, with_problems

LICENSING = Path(sys.executable).parent / "licensing"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LICENSING_DB"} | {"COLUMNS": "160"}
    return subprocess.run(
        [str(LICENSING), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def one_line_failure(result: subprocess.CompletedProcess[str], *mentions: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, result.stderr
    for mention in mentions:
        assert mention in message, message


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """contoso (F0) with a clash (Alice), a seat shortage (Erin) and a stuck licence (Dave)."""
    t = with_problems(tmp_path / "t.db")
    t.conn.close()
    return t.path


def export(db: Path, cwd: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ok(run("export", "--tenant", "contoso", "--db", str(db), cwd=cwd)).stdout)
    return document


def test_explain_prints_names_and_its_json_has_the_documented_keys(store: Path, tmp_path: Path) -> None:
    table = ok(run("explain", "--tenant", "contoso", "--user", "alice@contoso.com", "--db", str(store), cwd=tmp_path))
    assert "Alice" in table.stdout and "SHAREPOINTSTANDARD" in table.stdout
    assert PLAN_ID["SHAREPOINTSTANDARD"] not in table.stdout  # names, not GUIDs

    args = ("explain", "--tenant", "contoso", "--user", "u1", "--sku", "ENTERPRISEPACK", "--json", "--db", str(store))
    doc = json.loads(ok(run(*args, cwd=tmp_path)).stdout)
    assert doc["userId"] == "u1"
    (sku,) = doc["skus"]
    assert {"skuId", "skuPartNumber", "held", "plans"} <= sku.keys()
    assert {"servicePlanId", "servicePlanName", "enabled", "because", "events"} <= sku["plans"][0].keys()
    assert {"id", "time", "type"} == sku["plans"][0]["events"][0].keys()


def test_timeline_of_a_group_as_json(store: Path, tmp_path: Path) -> None:
    args = ("timeline", "--tenant", "contoso", "--group", "E3 users", "--json", "--db", str(store))
    changes = json.loads(ok(run(*args, cwd=tmp_path)).stdout)["changes"]
    keys = {"time", "eventId", "eventType", "source", "userId", "skuId", "skuPartNumber", "assignedByGroup"}
    assert keys | {"state", "error", "previousState", "previousError"} <= changes[0].keys()
    assert {c["userId"] for c in changes} == {"u1", "u2", "u4", "u5"}


def test_what_if_of_a_swap_writes_nothing_and_its_events_file_is_what_ingest_then_does(
    store: Path, tmp_path: Path
) -> None:
    before = export(store, tmp_path)
    swap = tmp_path / "swap.jsonl"
    args = ("what-if", "--tenant", "contoso", "--group", "E3 users", "--add-license", "STANDARDPACK:SWAY")
    args += ("--remove-license", "ENTERPRISEPACK", "--out", str(swap), "--time", "2026-02-01T09:00:00Z")
    doc = json.loads(ok(run(*args, "--json", "--db", str(store), cwd=tmp_path)).stdout)
    assert export(store, tmp_path) == before
    assert {"licenseAssignmentStates", "subscribedSkus", "rejectedCommands"} <= doc.keys()
    predicted = {
        (e["userId"], e["skuPartNumber"], e["assignedByGroup"]): e["after"] for e in doc["licenseAssignmentStates"]
    }

    ok(run("ingest", str(swap), "--db", str(store), cwd=tmp_path))
    after = export(store, tmp_path)
    for user in after["users"]:
        for state in user["licenseAssignmentStates"]:
            key = (user["id"], state["skuPartNumber"])
            if key in predicted:
                assert predicted[key] == {k: state[k] for k in ("state", "error", "disabledPlans")}

    readable = ok(run("what-if", str(swap), "--tenant", "contoso", "--db", str(store), cwd=tmp_path))
    assert "duplicates 1" in readable.stdout and "No licence, seat or group would change." in readable.stdout


def test_fix_plan_then_ingest_leaves_only_what_it_could_not_fix(store: Path, tmp_path: Path) -> None:
    fixes = tmp_path / "fixes.jsonl"
    args = ("fix-plan", "--tenant", "contoso", "--out", str(fixes), "--time", "2026-02-01T09:00:00Z")
    table = ok(run(*args, "--db", str(store), cwd=tmp_path))
    assert "Policy:" in table.stdout and f"events written to {fixes}" in table.stdout
    doc = json.loads(ok(run(*args, "--json", "--db", str(store), cwd=tmp_path)).stdout)
    assert doc["errorsBefore"] == 3 and doc["errorsAfter"] == 0

    preview = json.loads(
        ok(run("what-if", str(fixes), "--tenant", "contoso", "--json", "--db", str(store), cwd=tmp_path)).stdout
    )
    assert sum(1 for e in preview["licenseAssignmentStates"] if e["before"] and e["before"]["state"] != "Active") == 3
    ok(run("ingest", str(fixes), "--db", str(store), cwd=tmp_path))
    in_error = [
        s for u in export(store, tmp_path)["users"] for s in u["licenseAssignmentStates"] if s["state"] != "Active"
    ]
    assert in_error == []


def test_reprocess_every_error_and_by_product(store: Path, tmp_path: Path) -> None:
    result = ok(run("reprocess", "--tenant", "contoso", "--all-errors", "--db", str(store), cwd=tmp_path))
    assert "reprocessed 3 target(s)" in result.stderr and "entries in error 3 -> 3" in result.stderr
    ok(run("ingest", "-", "--db", str(store), cwd=tmp_path))  # nothing from stdin: the store is unchanged
    result = ok(run("reprocess", "--tenant", "contoso", "--sku", "ENTERPRISEPACK", "--db", str(store), cwd=tmp_path))
    assert "reprocessed 3 target(s)" in result.stderr


def test_reports_as_table_json_and_csv(store: Path, tmp_path: Path) -> None:
    table = ok(run("report", "errors", "--tenant", "contoso", "--db", str(store), cwd=tmp_path)).stdout
    assert "Alice" in table and "E3 users" in table and "MutuallyExclusiveViolation" in table
    rows = json.loads(
        ok(run("report", "errors", "--tenant", "contoso", "--json", "--db", str(store), cwd=tmp_path)).stdout
    )["rows"]
    text = ok(run("report", "errors", "--tenant", "contoso", "--csv", "--db", str(store), cwd=tmp_path)).stdout
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["userId"] for r in parsed] == [r["userId"] for r in rows] and len(rows) == 3
    seats = json.loads(
        ok(run("report", "seats", "--tenant", "contoso", "--json", "--db", str(store), cwd=tmp_path)).stdout
    )
    assert [(r["displayName"], r["category"]) for r in seats["rows"]] == [("Dave", "ActiveWithError")]
    plans = ok(run("report", "new-plans", "--tenant", "contoso", "--csv", "--db", str(store), cwd=tmp_path)).stdout
    assert plans.splitlines() == ["time,eventId,skuPartNumber,servicePlanName,kind,name,stillOn,id,servicePlanId"]


@pytest.mark.parametrize(
    "args, mentions",
    [
        (("explain", "--tenant", "contoso", "--user", "nobody"), ("no user 'nobody'",)),
        (("explain", "--tenant", "fabrikam", "--user", "u1"), ("unknown tenant 'fabrikam'",)),
        (("explain", "--tenant", "contoso", "--user", "u1", "--plan", "NOPE"), ("unknown service plan 'NOPE'",)),
        (("timeline", "--tenant", "contoso"), ("exactly one of --user and --group",)),
        (("what-if", "--tenant", "contoso", "missing.jsonl"), ("cannot read missing.jsonl",)),
        (("what-if", "--tenant", "contoso"), ("give FILE, or --group",)),
        (
            ("what-if", "--tenant", "contoso", "--group", "E3 users", "--add-license", "NOPE"),
            ("unknown product 'NOPE'",),
        ),
        (("fix-plan", "--tenant", "contoso", "--time", "yesterday"), ("--time 'yesterday'",)),
        (("reprocess", "--tenant", "contoso"), ("give one of --user, --group, --all-errors and --sku",)),
        (("reprocess", "--tenant", "contoso", "--sku", "NOPE"), ("unknown product 'NOPE'",)),
        (("report", "seats", "--tenant", "contoso", "--json", "--csv"), ("at most one of --json and --csv",)),
        (("alerts", "--webhook", "ftp://x"), ("is not an http(s) URL",)),
    ],
)
def test_bad_input_ends_in_one_line(
    store: Path, tmp_path: Path, args: tuple[str, ...], mentions: tuple[str, ...]
) -> None:
    one_line_failure(run(*args, "--db", str(store), cwd=tmp_path), *mentions)


def test_a_missing_store_is_one_line(tmp_path: Path) -> None:
    one_line_failure(
        run("report", "errors", "--tenant", "contoso", "--db", str(tmp_path / "none.db"), cwd=tmp_path),
        "no licensing database",
    )
