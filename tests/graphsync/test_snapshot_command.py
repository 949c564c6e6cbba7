"""`licensing snapshot` with msgraph-sdk against a real HTTP server speaking Graph v1.0 (paged)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from processor.graphsync.snapshot import read_snapshot
from tests.graphsync.fake_graph import fake_graph
from tests.graphsync.fourth_coffee import FIXTURE, G_E3, cli


def test_the_snapshot_follows_next_links_and_holds_what_graph_sent(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    with fake_graph(FIXTURE) as (base_url, seen):
        result = cli("snapshot", "--base-url", base_url, "--out", str(out), "--token", "t0ken")
    assert result.exit_code == 0, result.stderr
    for name in ("organization.json", "subscribedSkus.json", "users.json", "groups.json", f"members/{G_E3}.json"):
        sent = json.loads((FIXTURE / name).read_text("utf-8"))["value"]
        assert json.loads((out / name).read_text("utf-8"))["value"] == sent, name
    assert [r.get("$skiptoken") for r in seen if r["path"] == "/v1.0/users"] == [None, "2", "4"]  # three pages
    users = next(r for r in seen if r["path"] == "/v1.0/users" and "$select" in r)
    assert users["$select"].split(",")[-1] == "licenseAssignmentStates" and users["$top"] == "999"
    assert {r["authorization"] for r in seen} == {"Bearer t0ken"}
    assert read_snapshot(out).taken_at is not None
    assert "wrote snapshot" in result.stderr


def test_a_refusal_is_one_line_and_leaves_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    with fake_graph(FIXTURE, status=403) as (base_url, _):
        result = cli("snapshot", "--base-url", base_url, "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr.endswith(": Graph answered 403 Authorization_RequestDenied: Insufficient privileges.\n")
    assert result.stderr.count("\n") == 1 and not out.exists() and list(tmp_path.iterdir()) == []


def test_an_endpoint_nobody_answers(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = cli("snapshot", "--base-url", f"http://127.0.0.1:{port}/v1.0", "--out", str(tmp_path / "x"))
    assert result.exit_code == 1
    assert (
        result.stderr.startswith(f"licensing: GET http://127.0.0.1:{port}/v1.0/organization")
        and "Connect" in result.stderr
    )


def test_an_existing_snapshot_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "users.json").write_text("{}")
    result = cli("snapshot", "--out", str(tmp_path / "taken"))
    assert (result.exit_code, result.stderr) == (
        1,
        f"licensing: {tmp_path / 'taken'} exists and is not an empty folder\n",
    )
