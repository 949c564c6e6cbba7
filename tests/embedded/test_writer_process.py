"""Batches written by the writer process are committed exactly as the deciding process would have written them, and
a failure of the writer stops the ingest instead of being lost."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from processor.demo.generator import generate_demo_events
from processor.embedded.database import open_database
from processor.embedded.errors import LogAppendedElsewhere, WriterFailed
from processor.embedded.runtime import EmbeddedRuntime


def _lines() -> list[tuple[str, bytes]]:
    """Two tenants' demo events with repeats (of the batch before, in flight while the next is decided, and within a
    batch), a malformed line and a blank one."""
    lines = [json.dumps(event).encode() for event in generate_demo_events(users=300)]
    lines += [json.dumps(event).encode() for event in generate_demo_events(users=200, tenant="fabrikam")]
    lines.insert(700, lines[650])  # the batch before (batches of 100)
    lines.insert(905, lines[903])  # the same batch
    lines.insert(1200, b'{"specversion": "1.0", "id": "broken"')
    lines.insert(1300, b"   ")
    lines += lines[:150]  # the start of the log again
    return [(f"line {n}", line) for n, line in enumerate(lines, 1)]


def _contents(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a fixed order."""
    tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {table: sorted(conn.execute(f"SELECT * FROM {table}"), key=repr) for table in tables}


@pytest.mark.parametrize("shared_file", ["memfd", "temporary file"])
def test_the_writer_process_commits_what_the_deciding_process_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_file: str
) -> None:
    """The batches' bulky parts reach the writer through an in-memory file, or a temporary one where the system has
    no memfd."""
    if shared_file == "temporary file":
        monkeypatch.delattr(os, "memfd_create", raising=False)
    elif not hasattr(os, "memfd_create"):
        pytest.skip("no memfd on this system")
    lines = _lines()
    inline = EmbeddedRuntime(open_database(tmp_path / "inline.db"))
    summary = inline.ingest(lines, batch_size=100, writer="inline")
    assert summary.duplicates == 152 and summary.dead_lettered == 1
    process = EmbeddedRuntime(open_database(tmp_path / "process.db"))
    assert process.ingest(lines, batch_size=100, writer="process") == summary
    expected = _contents(inline.conn)
    assert len(expected["license_assignment_rows"]) > 500 and len(expected["log_blocks"]) > 20
    assert _contents(process.conn) == expected

    # ingesting everything again: all duplicates, nothing written
    again = process.ingest(lines, batch_size=100, writer="process")
    assert (again.accepted, again.duplicates) == (0, summary.accepted + summary.stale + summary.duplicates)
    assert _contents(process.conn) == expected

    # a replay written by the writer process rebuilds the same decisions, read models and snapshots
    assert process.replay(writer="process") == inline.replay(writer="inline")
    assert _contents(process.conn) == _contents(inline.conn)


@pytest.mark.parametrize("chunk", [2, 7])
def test_a_batch_decided_in_chunks_commits_what_one_chunk_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Repeats across the chunks of one batch are duplicates as within one chunk (the first copy wins)."""
    from processor.embedded import runtime as embedded

    lines = _lines()
    whole = EmbeddedRuntime(open_database(tmp_path / "whole.db"))
    summary = whole.ingest(lines, batch_size=100, writer="inline")  # one chunk per batch (CHUNK > 100)
    monkeypatch.setattr(embedded, "CHUNK", chunk)
    for writer in ("inline", "process"):
        chunked = EmbeddedRuntime(open_database(tmp_path / f"{writer}.db"))
        assert chunked.ingest(lines, batch_size=100, writer=writer) == summary  # type: ignore[arg-type]
        assert _contents(chunked.conn) == _contents(whole.conn)


def _appending_elsewhere(db: Path, lines: list[tuple[str, bytes]], at: int) -> Iterator[tuple[str, bytes]]:
    """The lines, with another connection appending an event to the log when line `at` is read."""
    for n, line in enumerate(lines):
        if n == at:
            other = open_database(db)
            other.execute(
                "INSERT INTO log_blocks (first_seq, events, lines) SELECT max(first_seq + events), 1, x'00' "
                "FROM log_blocks"
            )
            other.close()
        yield line


@pytest.mark.parametrize("writer", ["inline", "process"])
def test_another_process_appending_meanwhile_stops_the_ingest(tmp_path: Path, writer: str) -> None:
    lines = _lines()[:1000]
    db = tmp_path / "log.db"
    runtime = EmbeddedRuntime(open_database(db))
    with pytest.raises(LogAppendedElsewhere, match="the log ends at"):
        runtime.ingest(_appending_elsewhere(db, lines, 450), batch_size=100, writer=writer)  # type: ignore[arg-type]
    # every batch before the foreign event is whole: its events are logged, decided and projected
    conn = open_database(db)
    logged = conn.execute("SELECT sum(events) FROM log_blocks").fetchone()[0] - 1
    assert logged >= 300 and logged % 100 == 0
    assert conn.execute("SELECT count(*) FROM event_ids").fetchone()[0] == logged
    decided = conn.execute("SELECT max(first_seq) FROM decision_blocks").fetchone()[0]
    assert decided <= logged < decided + 100


def test_ids_being_written_are_known_to_the_deciding_process_until_committed(tmp_path: Path) -> None:
    """Between handing a batch to the writer and its commit, its ids are the writer's pending ones; after, the
    database's. At every moment one of the two holds them: a repeat in the next batch is never missed."""
    from processor.embedded import eventlog
    from processor.embedded.writer import DecidedBatch, ProcessWriter

    db = tmp_path / "log.db"
    conn = open_database(db)
    lines = [json.dumps({"id": f"event-{n}", "padding": "x" * 200}).encode() for n in range(20_000)]
    ids = {f"event-{n}": eventlog.line_digest(line) for n, line in enumerate(lines)}  # id -> digest of its line
    writer = ProcessWriter(str(db))
    try:
        writer.write(DecidedBatch(blocks=eventlog.framed_blocks(1, lines, [b""] * len(lines)), ids={"contoso": ids}))
        while True:
            # first: what it no longer holds is committed by the next look
            pending = writer.pending("contoso", ids)
            committed = eventlog.known_ids(conn, "contoso", ids)
            assert committed | pending == ids, "ids in flight are neither committed nor pending (with their digests)"
            if not pending:
                break
    finally:
        writer.close()
    assert eventlog.known_ids(conn, "contoso", ids) == ids
    assert eventlog.count(conn) == len(ids)


def test_auto_writes_in_a_process_only_with_a_second_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On one CPU the two processes would take turns: the ingest then writes its batches itself."""
    from processor.embedded import runtime as embedded
    from processor.embedded.writer import InlineWriter, ProcessWriter

    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    monkeypatch.setattr(embedded, "usable_cpus", lambda: 1)
    assert isinstance(runtime._writer("auto", more_than_a_batch=True), InlineWriter)
    monkeypatch.setattr(embedded, "usable_cpus", lambda: 2)
    assert isinstance(runtime._writer("auto", more_than_a_batch=False), InlineWriter)
    writer = runtime._writer("auto", more_than_a_batch=True)
    try:
        assert isinstance(writer, ProcessWriter)
    finally:
        writer.close()


def test_a_writer_failing_at_close_reports_its_error_and_then_stops_quietly(tmp_path: Path) -> None:
    """The ingest aborts the writer after a failed close: the abort must not bury the writer's error under its own."""
    from processor.embedded import eventlog
    from processor.embedded.writer import DecidedBatch, ProcessWriter

    db = tmp_path / "log.db"
    open_database(db).close()
    writer = ProcessWriter(str(db))
    # the log ends at seq 0, so a block starting at 5 leaves a gap: the writer refuses it
    writer.write(DecidedBatch(blocks=eventlog.framed_blocks(5, [b"{}"], [b""]), ids={"contoso": {"e5": 0}}))
    with pytest.raises(LogAppendedElsewhere, match="the log ends at 0, this batch starts at 5"):
        writer.close()
    writer.abort()


def test_a_writer_failing_on_something_else_reports_it_in_one_line(tmp_path: Path) -> None:
    """An error that is not the store's own (here SQLite refusing a malformed row) reaches the deciding process as
    one line; the writer's traceback stays beside it for a developer."""
    from processor.embedded.writer import DecidedBatch, ProcessWriter

    db = tmp_path / "log.db"
    open_database(db).close()
    writer = ProcessWriter(str(db))
    writer.write(DecidedBatch(dead=[("digest", None, "origin", "reason")]))  # type: ignore[list-item]
    with pytest.raises(WriterFailed) as failed:
        writer.close()
    writer.abort()
    assert "\n" not in str(failed.value)
    assert str(failed.value).startswith("the writer process failed: sqlite3.ProgrammingError")
    assert "Traceback" in failed.value.args[1]


def test_the_writer_process_imports_this_very_package() -> None:
    """It is started with the directory holding `processor` first on its path (a checkout that is not installed, or
    another than the installed one, is the code it runs)."""
    import processor
    from processor.embedded.writer import PACKAGE_ROOT

    assert PACKAGE_ROOT == Path(processor.__file__).resolve().parent.parent
