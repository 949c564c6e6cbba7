"""Two ingests of one database at once: the second waits for the first, then appends after it (no
LogAppendedElsewhere); one that waits too long gives up with a one-line IngestRunning and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processor.demo.generator import generate_demo_events, write_jsonl
from processor.embedded import eventlog
from processor.embedded.database import close_database, open_database
from processor.embedded.errors import IngestRunning
from processor.embedded.loglock import log_lock
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document

LICENSING = str(Path(sys.executable).parent / "licensing")


def _document(db: Path, tenant: str) -> dict[str, object]:
    return tenant_document(open_database(db, read_only=True), tenant)


def test_a_second_ingest_process_waits_for_the_first_and_appends_after_it(tmp_path: Path) -> None:
    contoso, fabrikam = tmp_path / "contoso.jsonl", tmp_path / "fabrikam.jsonl"
    write_jsonl(generate_demo_events(users=1500), contoso)
    write_jsonl(generate_demo_events(users=1500, tenant="fabrikam"), fabrikam)
    db = tmp_path / "shared.db"
    batches = ("--batch-size", "100")  # a commit per 100 events: unserialised, the two would collide
    # The first reads its events from a pipe, so it is still under way while the second starts.
    first = subprocess.Popen(
        [LICENSING, "ingest", "-", "--db", str(db), *batches], stdin=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert first.stdin is not None
    lines = contoso.read_bytes().splitlines(keepends=True)
    first.stdin.write(b"".join(lines[:1000]))
    first.stdin.flush()
    deadline = time.monotonic() + 60
    while not (db.exists() and eventlog.last_seq(open_database(db, read_only=True))):  # it is appending
        assert time.monotonic() < deadline and first.poll() is None, "the first ingest did not start appending"
        time.sleep(0.02)
    second = subprocess.Popen(
        [LICENSING, "ingest", str(fabrikam), "--db", str(db), *batches], stderr=subprocess.PIPE, text=True
    )
    time.sleep(2)  # the second has started meanwhile, and waits
    first.stdin.write(b"".join(lines[1000:]))
    first.stdin.close()
    _, second_errors = second.communicate(timeout=300)
    first_errors = first.stderr.read() if first.stderr else b""
    first.wait(timeout=300)
    assert (first.returncode, second.returncode) == (0, 0), (first_errors, second_errors)
    assert "Traceback" not in second_errors and "dead-lettered 0" in second_errors

    conn = open_database(db, read_only=True)
    tenants = [json.loads(raw)["tenant"] for _, raw in eventlog.lines(conn)]
    contoso_events = sum(1 for _ in open(contoso))
    assert tenants == ["contoso"] * contoso_events + ["fabrikam"] * (
        len(tenants) - contoso_events
    )  # one after the other
    for tenant, source in (("contoso", contoso), ("fabrikam", fabrikam)):
        alone = tmp_path / f"{tenant}-alone.db"
        subprocess.run([LICENSING, "ingest", str(source), "--db", str(alone)], capture_output=True, check=True)
        assert _document(db, tenant) == _document(alone, tenant)


def test_an_ingest_that_waits_too_long_gives_up_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    lines = [("demo", json.dumps(event).encode()) for event in generate_demo_events(users=200)]
    holder = open_database(db)
    told: list[str] = []
    with log_lock(holder):  # another ingest under way
        started = time.monotonic()
        with pytest.raises(IngestRunning, match=f"another ingest or replay of {db} is still running after 0.3 s"):
            EmbeddedRuntime(open_database(db)).ingest(lines, lock_wait=0.3, waiting=lambda: told.append("waiting"))
        assert time.monotonic() - started >= 0.3
        with pytest.raises(IngestRunning):
            EmbeddedRuntime(open_database(db)).replay(lock_wait=0.1)
    assert told == ["waiting"]
    assert eventlog.last_seq(holder) == 0
    summary = EmbeddedRuntime(open_database(db)).ingest(lines)  # the lock is free again
    assert summary.accepted == len(lines)
    close_database(holder)


def test_a_runtime_kept_open_decides_with_what_another_process_appended_meanwhile(tmp_path: Path) -> None:
    """A long-lived runtime (a server, the demo) holds tenant states in memory: once the log has grown elsewhere,
    it reads them again instead of deciding with stale ones."""
    events = [json.dumps(event).encode() for event in generate_demo_events(users=200)]
    thirds = len(events) // 3
    db = tmp_path / "log.db"
    kept = EmbeddedRuntime(open_database(db))
    kept.ingest([("day1", line) for line in events[:thirds]])
    EmbeddedRuntime(open_database(db)).ingest([("day2", line) for line in events[thirds : 2 * thirds]])
    kept.ingest([("day3", line) for line in events[2 * thirds :]])
    reference = EmbeddedRuntime(open_database(tmp_path / "reference.db"))
    reference.ingest([("all", line) for line in events])
    assert tenant_document(kept.conn, "contoso") == tenant_document(reference.conn, "contoso")
    assert kept.tenants["contoso"] == reference.tenants["contoso"]
