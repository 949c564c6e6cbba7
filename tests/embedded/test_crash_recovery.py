"""A crash at any point of an embedded ingest, then the same ingest again, gives the state of an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processor.demo.generator import generate_demo_events, write_jsonl
from processor.embedded import eventlog

LICENSING = str(Path(sys.executable).parent / "licensing")


def licensing(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LICENSING, *args], capture_output=True, text=True, timeout=300, check=True)


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("crash")
    path = folder / "demo.jsonl"
    write_jsonl(generate_demo_events(users=1500), path)
    reference = folder / "reference.db"
    licensing("ingest", str(path), "--db", str(reference))
    return path, licensing("export", "--tenant", "contoso", "--db", str(reference)).stdout


@pytest.mark.parametrize("fraction", [0.15, 0.4, 0.7])
def test_kill_9_mid_ingest_then_ingest_again_equals_no_crash(
    stream: tuple[Path, str], tmp_path: Path, fraction: float
) -> None:
    path, expected = stream
    db = tmp_path / "crashed.db"
    started = time.monotonic()
    batches = ("--batch-size", "500")  # several commits, so a kill can land between them
    licensing("ingest", str(path), "--db", str(tmp_path / "timing.db"), *batches)
    full = time.monotonic() - started
    victim = subprocess.Popen([LICENSING, "ingest", str(path), "--db", str(db), *batches], start_new_session=True)
    time.sleep(full * fraction)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    logged = _count(db, "event_ids")  # one row per logged event
    assert logged < sum(1 for _ in open(path)), "the kill came too late to interrupt the ingest"
    # the log holds whole batches only: every logged event has its decisions and read-model rows
    summary = licensing("ingest", str(path), "--db", str(db)).stderr
    assert f"duplicates {logged}," in summary
    assert licensing("export", "--tenant", "contoso", "--db", str(db)).stdout == expected


def _count(db: Path, table: str) -> int:
    import sqlite3

    if not db.exists():
        return 0
    try:
        return int(sqlite3.connect(db).execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # killed before the schema was committed


def test_periodic_snapshot_then_crash_then_catch_up_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot taken mid-ingest plus the log after it rebuild exactly the state of an uninterrupted ingest."""
    import processor.embedded.runtime as embedded
    from processor.embedded.database import open_database
    from projections.export import tenant_document

    lines = _small_batches_frequent_snapshots(monkeypatch)

    reference = embedded.EmbeddedRuntime(open_database(tmp_path / "reference.db"))
    reference.ingest(lines)
    expected = tenant_document(reference.conn, "contoso")

    def crashing(limit: int):  # type: ignore[no-untyped-def]
        for n, line in enumerate(lines):
            if n == limit:
                raise KeyboardInterrupt  # the process dies mid-batch
            yield line

    db = tmp_path / "crashed.db"
    with pytest.raises(KeyboardInterrupt):
        embedded.EmbeddedRuntime(open_database(db)).ingest(crashing(len(lines) * 2 // 3))
    conn = open_database(db)
    snapshot_seq = conn.execute("SELECT max(event_seq) FROM snapshots").fetchone()[0]
    logged = eventlog.count(conn)
    assert 0 < snapshot_seq < logged, "a periodic snapshot must cover part of the logged events only"
    restarted = embedded.EmbeddedRuntime(conn)
    restarted.ingest(lines)
    assert tenant_document(restarted.conn, "contoso") == expected


def _small_batches_frequent_snapshots(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """The events of a 300-user demo tenant, with 50-event batches and a snapshot due every 120 events whatever
    the tenant's size (a test may set SNAPSHOT_PER_ENTITY again)."""
    import processor.embedded.runtime as embedded

    monkeypatch.setattr(embedded, "BATCH", 50)
    monkeypatch.setattr(embedded, "SNAPSHOT_EVERY", 120)
    monkeypatch.setattr(embedded, "SNAPSHOT_PER_ENTITY", 0)
    return [("demo", line) for line in _demo_lines(300)]


def _demo_lines(users: int) -> list[bytes]:
    import json

    return [json.dumps(e).encode() for e in generate_demo_events(users=users)]


def test_snapshots_are_renewed_in_proportion_to_tenant_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pickling a tenant costs O(its size): a snapshot is due only once the events behind it outnumber the
    tenant's users and groups SNAPSHOT_PER_ENTITY times (and SNAPSHOT_EVERY)."""
    import processor.embedded.runtime as embedded
    from processor.embedded.database import open_database

    lines = _small_batches_frequent_snapshots(monkeypatch)
    runtime = embedded.EmbeddedRuntime(open_database(tmp_path / "log.db"))
    size = lambda: len(runtime.tenants["contoso"].users) + len(runtime.tenants["contoso"].groups)  # noqa: E731

    def snapshot_seq() -> int | None:
        row = runtime.conn.execute("SELECT event_seq FROM snapshots WHERE tenant = 'contoso'").fetchone()
        return row[0] if row else None

    monkeypatch.setattr(embedded, "SNAPSHOT_PER_ENTITY", len(lines))  # never due within this log
    monkeypatch.setattr(embedded, "SNAPSHOT_AT_END_PER_ENTITY", len(lines))  # nor when an ingest ends
    runtime.ingest(lines[: len(lines) // 2])
    assert snapshot_seq() is None
    monkeypatch.setattr(embedded, "SNAPSHOT_PER_ENTITY", 1)  # due once the events behind outnumber users + groups
    runtime.ingest(lines[len(lines) // 2 :])
    taken = snapshot_seq()
    assert taken is not None and taken >= max(120, size())


def test_an_ingest_ends_with_a_snapshot_once_replaying_would_cost_more_than_pickling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mid-ingest, snapshots are rare (they only bound a crash's replay); when the ingest ends, the next run would
    replay everything after the snapshot, so one is taken once the events behind outnumber users and groups."""
    import processor.embedded.runtime as embedded
    from processor.embedded.database import open_database

    lines = _small_batches_frequent_snapshots(monkeypatch)
    monkeypatch.setattr(embedded, "SNAPSHOT_PER_ENTITY", len(lines))  # never due mid-ingest
    db = tmp_path / "log.db"
    runtime = embedded.EmbeddedRuntime(open_database(db))
    first, rest = lines[: len(lines) // 2], lines[len(lines) // 2 :]

    monkeypatch.setattr(embedded, "SNAPSHOT_AT_END_PER_ENTITY", len(lines))  # replaying is cheaper: no snapshot
    runtime.ingest(first)
    assert runtime.conn.execute("SELECT count(*) FROM snapshots").fetchone() == (0,)

    monkeypatch.setattr(embedded, "SNAPSHOT_AT_END_PER_ENTITY", 1)
    runtime.ingest(rest)
    logged = eventlog.count(runtime.conn)
    assert runtime.conn.execute("SELECT event_seq FROM snapshots WHERE tenant = 'contoso'").fetchone() == (logged,)

    replayed: list[str] = []
    monkeypatch.setattr(embedded, "decide_changes", lambda state, event: replayed.append(event.id))  # none to decide
    restarted = embedded.EmbeddedRuntime(open_database(db))
    assert restarted.tenant("contoso") == runtime.tenants["contoso"]
    assert replayed == []


def test_a_snapshot_of_another_state_layout_is_ignored_and_the_tenant_rebuilt_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot written by a version whose state classes had other fields must not be decoded into today's
    classes (objects missing fields fail later, deep in a decision): the tenant is rebuilt from the log."""
    import processor.embedded.runtime as embedded
    from processor.catalog_file import shipped_catalog
    from processor.embedded.database import open_database
    from processor.statecodec import VERSION_BYTES, state_version

    lines = _small_batches_frequent_snapshots(monkeypatch)
    runtime = embedded.EmbeddedRuntime(open_database(tmp_path / "log.db"))
    runtime.ingest(lines)
    expected = runtime.tenants["contoso"]
    ((taken, blob),) = runtime.conn.execute("SELECT event_seq, state FROM snapshots WHERE tenant = 'contoso'")
    assert taken > 0 and blob.startswith(state_version(shipped_catalog()))

    same_layout = embedded.EmbeddedRuntime(open_database(tmp_path / "log.db"))
    assert same_layout.tenant("contoso") == expected
    assert same_layout._snapshotted["contoso"] == taken  # the snapshot was used

    other_layout = bytes(VERSION_BYTES) + blob[VERSION_BYTES:]
    runtime.conn.execute("UPDATE snapshots SET state = ? WHERE tenant = 'contoso'", (other_layout,))
    rebuilt = embedded.EmbeddedRuntime(open_database(tmp_path / "log.db"))
    assert rebuilt.tenant("contoso") == expected
    assert rebuilt._snapshotted["contoso"] == 0  # from the log alone
