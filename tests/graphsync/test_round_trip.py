"""The round trip with real processes: the demo tenant served by `licensing serve`, snapshotted by `licensing
snapshot` (msgraph-sdk), imported by `licensing import graph` into a fresh database: every user's licence states and
every SKU's consumed units come out equal, and `licensing conformance` finds no difference."""

from __future__ import annotations

import json
from pathlib import Path

from processor.demo.generator import generate_demo_events, write_jsonl
from tests.api.conftest import export, ingest, licensing, start_server, stop_server
from tests.graphsync.exported import states

TENANT = "contoso"
USERS = 1200  # more users than one Graph page holds (999): the snapshot follows @odata.nextLink


def test_serve_snapshot_import_conformance(tmp_path: Path) -> None:
    events = tmp_path / "demo.jsonl"
    write_jsonl(generate_demo_events(users=USERS), events)
    original = tmp_path / "original.db"
    ingest(original, events)
    server = start_server(original)
    try:
        taken = licensing("snapshot", "--base-url", server.graph(TENANT), "--out", str(tmp_path / "snapshot"))
    finally:
        stop_server(server)
    assert taken.returncode == 0, taken.stderr
    copy = tmp_path / "copy.db"
    imported = licensing("import", "graph", str(tmp_path / "snapshot"), "--tenant", TENANT, "--db", str(copy))
    assert imported.returncode == 0, imported.stderr

    before, after = export(original), export(copy)
    assert states(after) == states(before)
    assert {s["skuId"]: s["consumedUnits"] for s in after["subscribedSkus"]} == {
        s["skuId"]: s["consumedUnits"] for s in before["subscribedSkus"]
    }
    check = licensing("conformance", str(tmp_path / "snapshot"), "--tenant", TENANT, "--db", str(copy), "--json")
    assert check.returncode == 0, check.stdout[-2000:]
    assert json.loads(check.stdout)["totals"]["differences"] == 0
    again = licensing("import", "graph", str(tmp_path / "snapshot"), "--tenant", TENANT, "--db", str(copy))
    assert "0 events" in again.stderr
