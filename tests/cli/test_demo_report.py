"""The demo's tables show the read models' text as it is: brackets in a name are not markup to drop."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from processor.demo.hints import Hints
from processor.demo.names import Names
from processor.demo.report import Report
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.terminal import input_lines
from tests.cli.test_cli import tenant_events, write_jsonl


def test_names_with_brackets_are_shown_as_they_are(tmp_path: Path) -> None:
    events = tenant_events()
    for event in events:
        if event["data"].get("groupId") == "G_ZETA" and event["type"] == "GroupCreated":
            event["data"]["displayName"] = "[pilot] zeta"
        if event["data"].get("userId") == "u3" and event["type"] == "UserCreated":
            event["data"]["displayName"] = "[bot] no location"
    conn = open_database(tmp_path / "brackets.db")
    try:
        EmbeddedRuntime(conn).ingest(input_lines((str(write_jsonl(tmp_path / "c.jsonl", events)),)))
        out = Console(record=True, width=200)
        report = Report(
            out, conn, "contoso", Names.of_tenant(conn, "contoso"), Hints(tmp_path / "x.db", "contoso"), True
        )
        report.groups_needing_attention()
        report.rejections()
    finally:
        conn.close()
    text = out.export_text()
    assert "[pilot] zeta — 2 user(s) in error" in text
    assert "[bot] no location" in text
