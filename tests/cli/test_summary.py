"""The ingest summary on stderr is the runtime's own `IngestSummary.line()`, unchanged, after the reasons of the
first dead letters."""

from __future__ import annotations

from pathlib import Path

from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.terminal import input_lines
from tests.cli.test_cli import fabrikam_lines, ok, run


def test_the_ingest_summary_is_the_runtimes_line_unchanged(tmp_path: Path) -> None:
    lines, _ = fabrikam_lines()  # accepted, duplicate and dead-lettered lines
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    printed = ok(run("ingest", str(source), "--db", str(tmp_path / "cli.db"), cwd=tmp_path)).stderr.splitlines()

    conn = open_database(tmp_path / "in-process.db")
    try:
        summary = EmbeddedRuntime(conn).ingest(input_lines((str(source),)))
    finally:
        conn.close()
    expected = [f"dead-lettered {reason}" for reason in summary.reasons] + summary.line().splitlines()
    assert summary.dead_lettered and summary.duplicates
    assert printed == expected
