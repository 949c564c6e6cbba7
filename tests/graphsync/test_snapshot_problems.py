"""Snapshots that break the format: one clear line, exit status 1, no traceback, and nothing imported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from processor.embedded import eventlog
from processor.embedded.database import open_database
from tests.graphsync.fourth_coffee import CHEN, G_E3, cli, edit, user

UNKNOWN_SKU = "0000dead-beef-4000-8000-000000000000"


def _without_states(folder: Path) -> None:
    edit(folder, "users.json", lambda users: user(users, CHEN).pop("licenseAssignmentStates"))


def _unknown_sku(folder: Path) -> None:
    entry = {"assignedByGroup": None, "disabledPlans": [], "error": "None", "skuId": UNKNOWN_SKU, "state": "Active"}
    edit(folder, "users.json", lambda users: user(users, CHEN)["licenseAssignmentStates"].append(entry))


PROBLEMS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing file": (lambda f: (f / "groups.json").unlink(), "groups.json is missing from the snapshot"),
    "missing members": (
        lambda f: (f / "members" / f"{G_E3}.json").unlink(),
        f"members/{G_E3}.json is missing from the snapshot",
    ),
    "bad JSON": (
        lambda f: (f / "users.json").write_text('{"value": [{"id": "x",}]}'),
        "users.json: not valid JSON (line 1, column 22: trailing comma is not allowed)",
    ),
    "not UTF-8": (lambda f: (f / "groups.json").write_bytes(b'{"value": ["caf\xe9"]}'), "groups.json: not UTF-8 text"),
    "not a list response": (
        lambda f: (f / "subscribedSkus.json").write_text('{"skus": []}'),
        'subscribedSkus.json: not a Graph list response {"value": [...]}',
    ),
    "no licenseAssignmentStates": (_without_states, f"users.json: user {CHEN} has no licenseAssignmentStates"),
    "unknown SKU": (_unknown_sku, f"SKUs unknown to the catalogue: {UNKNOWN_SKU}"),
    "bad state": (
        lambda f: edit(f, "users.json", lambda u: user(u, CHEN)["licenseAssignmentStates"][0].update(state="On")),
        "state 'On' is not one of Active, ActiveWithError, Disabled, Error",
    ),
}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_a_broken_snapshot_imports_nothing(problem: str, snapshot_dir: Path, tmp_path: Path) -> None:
    breaks, message = PROBLEMS[problem]
    breaks(snapshot_dir)
    db = tmp_path / "t.db"
    result = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("licensing: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert eventlog.count(open_database(db)) == 0


def test_skip_unknown_imports_the_rest_and_says_what_it_left_out(snapshot_dir: Path, tmp_path: Path) -> None:
    _unknown_sku(snapshot_dir)
    db = tmp_path / "t.db"
    result = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(db), "--skip-unknown")
    assert result.exit_code == 0, result.stderr
    assert f"left out SKUs unknown to the catalogue: {UNKNOWN_SKU}" in result.stderr
    check = cli("conformance", str(snapshot_dir), "--tenant", "fourth", "--db", str(db), "--json")
    (difference,) = json.loads(check.stdout)["differences"]
    assert difference["class"] == "onlyEntra" and difference["skuId"] == UNKNOWN_SKU
    assert difference["why"] == f"SKU {UNKNOWN_SKU} is unknown to the catalogue: the import left it out"


def test_a_folder_that_is_not_there(tmp_path: Path) -> None:
    result = cli("import", "graph", str(tmp_path / "nowhere"), "--tenant", "t", "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 1
    assert result.stderr == f"licensing: {tmp_path / 'nowhere'} is not a snapshot folder\n"


def test_a_time_that_is_not_one(snapshot_dir: Path, tmp_path: Path) -> None:
    result = cli("import", "graph", str(snapshot_dir), "--tenant", "t", "--db", str(tmp_path / "t.db"), "--time", "May")
    assert result.exit_code == 1
    assert "is not an RFC 3339 time" in result.stderr


def test_a_powershell_export_with_a_byte_order_mark_and_a_bare_list_is_read(snapshot_dir: Path, tmp_path: Path) -> None:
    groups = json.loads((snapshot_dir / "groups.json").read_text("utf-8"))["value"]
    (snapshot_dir / "groups.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(groups).encode())
    result = cli("import", "graph", str(snapshot_dir), "--tenant", "fourth", "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 0, result.stderr
    assert "2 GroupCreated" in result.stderr
