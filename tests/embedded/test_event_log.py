"""The embedded log in compressed blocks: framing, duplicates, reading across blocks and tenants, and moving a
database of the older one-row-per-event layout into blocks."""

from __future__ import annotations

import json
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest

from processor.demo.generator import generate_demo_events
from processor.embedded import eventlog, newids
from processor.embedded import runtime as embedded
from processor.embedded.asof import state_as_of
from processor.embedded.database import SCHEMA_VERSION, open_database
from processor.embedded.runtime import EmbeddedRuntime, decision_rows
from projections.export import tenant_document


def _lines(count: int, tenant: str = "contoso") -> list[bytes]:
    """The first `count` events of a small demo tenant."""
    events = generate_demo_events(users=200, tenant=tenant)[:count]
    return [json.dumps(dict(event, id=f"{tenant}-{event['id']}")).encode() for event in events]


def test_pack_gives_back_every_byte_string_whatever_it_holds() -> None:
    items = [b"", b"\n", b'{"a": 1}\n{"b": 2}', bytes(range(256)), b"x" * 100_000, b""]
    assert eventlog.unpack(eventlog.pack(items)) == items
    assert eventlog.unpack(eventlog.pack([])) == []


def test_blocks_written_by_the_zlib_layout_still_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def zlib_pack(items: list[bytes]) -> bytes:  # pack as the log did before Zstandard
        header = struct.pack(f"<I{len(items)}I", len(items), *map(len, items))
        return zlib.compress(header + b"".join(items), 1)

    items = [b"", b'{"a": 1}', bytes(range(256))]
    assert eventlog.unpack(zlib_pack(items)) == items
    assert eventlog.pack(items)[:4] == eventlog.ZSTD_MAGIC

    lines = _lines(300)
    with monkeypatch.context() as old:
        old.setattr(eventlog, "pack", zlib_pack)
        EmbeddedRuntime(open_database(tmp_path / "mixed.db")).ingest([("old", line) for line in lines[:150]])
    runtime = EmbeddedRuntime(open_database(tmp_path / "mixed.db"))
    runtime.ingest([("new", line) for line in lines[150:]])
    assert [raw for _, raw in eventlog.lines(runtime.conn)] == lines
    before = list(decision_rows(runtime.conn))
    runtime.replay()
    assert list(decision_rows(runtime.conn)) == before


def test_events_span_blocks_and_tenants_and_read_back_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventlog, "BLOCK", 37)  # many partial blocks per batch
    monkeypatch.setattr(embedded, "BATCH", 50)
    contoso, fabrikam = _lines(400), _lines(300, "fabrikam")
    mixed = [line for pair in zip(contoso, fabrikam, strict=False) for line in pair]
    mixed += contoso[len(fabrikam) :]
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    summary = runtime.ingest([("test", line) for line in mixed])
    assert summary.accepted + summary.stale == len(mixed)
    logged = list(eventlog.lines(runtime.conn))
    assert [seq for seq, _ in logged] == list(range(1, len(mixed) + 1))
    assert [raw for _, raw in logged] == mixed
    assert [raw for _, raw in eventlog.lines(runtime.conn, after=23)] == mixed[23:]
    assert eventlog.count(runtime.conn) == eventlog.last_seq(runtime.conn) == len(mixed)
    blocks = runtime.conn.execute("SELECT count(*) FROM log_blocks").fetchone()[0]
    assert blocks > len(mixed) // 37  # batches end blocks early, so there are partial ones

    # a new process on the file: each tenant rebuilt from the log alone equals the one that ingested it
    fresh = EmbeddedRuntime(open_database(tmp_path / "log.db", create=False))
    for tenant in ("contoso", "fabrikam"):
        assert fresh.tenant(tenant) == runtime.tenants[tenant]
    reference = EmbeddedRuntime(open_database(tmp_path / "alone.db"))
    reference.ingest([("test", line) for line in contoso])
    assert tenant_document(runtime.conn, "contoso") == tenant_document(reference.conn, "contoso")
    assert [body for _, _, body in decision_rows(runtime.conn, "contoso")] == [
        body for _, _, body in decision_rows(reference.conn)
    ]


def test_duplicates_of_the_log_and_within_a_batch_are_left_out_without_gaps(tmp_path: Path) -> None:
    lines = _lines(100)
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    runtime.ingest([("test", line) for line in lines[:40]])
    again = lines[20:60] + lines[50:60]  # 20 already logged, 20 new, 10 repeated within the batch
    summary = runtime.ingest([("test", line) for line in again])
    assert summary.duplicates == 30
    assert [raw for _, raw in eventlog.lines(runtime.conn)] == lines[:60]
    assert [entry[0] for entry in eventlog.entries(runtime.conn)] == list(range(1, 61))


def test_any_event_id_is_recorded_exactly_and_repeats_are_duplicates(tmp_path: Path) -> None:
    """Ids go to SQLite as one JSON array per tenant: every character must survive it (NUL included, which SQLite's
    JSON reader would cut short), per tenant."""
    odd = ["a\x00b", 'q"\\', "é\u2028😀", "\x01\x1f", "tab\t", " "]
    events = [
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/t",
            "type": "UserCreated",
            "time": "2026-01-05T09:00:00Z",
            "tenant": tenant,
            "data": {"userId": f"u{n}"},
        }
        for tenant in ("contoso", "fabrikam")
        for n, event_id in enumerate(odd)
    ]
    lines = [json.dumps(event).encode() for event in events]
    runtime = EmbeddedRuntime(open_database(tmp_path / "ids.db"))
    assert runtime.ingest([("test", line) for line in lines]).accepted == len(lines)
    stored = set(runtime.conn.execute("SELECT tenant, id FROM event_ids"))
    assert stored == {(event["tenant"], event["id"]) for event in events}
    summary = runtime.ingest([("again", line) for line in lines[::-1]])
    assert (summary.accepted, summary.duplicates) == (0, len(lines))


def test_a_tenant_as_of_a_time_is_read_from_the_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventlog, "BLOCK", 5)
    lines = _lines(300)
    times = sorted(json.loads(line)["time"] for line in lines)
    middle = times[len(times) // 2]
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    runtime.ingest([("test", line) for line in lines])
    earlier = EmbeddedRuntime(open_database(tmp_path / "earlier.db"))
    earlier.ingest([("test", line) for line in lines if json.loads(line)["time"] <= middle])
    as_of = state_as_of(runtime.conn, "contoso", middle)
    assert tenant_document(as_of, "contoso") == tenant_document(earlier.conn, "contoso")


def _row_log_database(path: Path, lines: list[bytes], user_version: int) -> None:
    """A database as versions 1 and 2 wrote it: one `events` row per event (plus derived tables of that layout)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        """
        CREATE TABLE events (seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
            time TEXT NOT NULL, status TEXT NOT NULL, body BLOB NOT NULL, UNIQUE (tenant, id));
        CREATE TABLE decisions (event_seq INTEGER PRIMARY KEY, outputs BLOB NOT NULL);
        CREATE TABLE snapshots (tenant TEXT PRIMARY KEY, event_seq INTEGER NOT NULL, state BLOB NOT NULL);
        """
    )
    for line in lines:
        event = json.loads(line)
        conn.execute(
            "INSERT INTO events (tenant, id, type, time, status, body) VALUES (?, ?, ?, ?, 'applied', ?)",
            (event["tenant"], event["id"], event["type"], event["time"], line),
        )
    conn.execute("INSERT INTO decisions VALUES (1, '[]')")
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.close()


@pytest.mark.parametrize("user_version", [1, 2])
def test_a_database_of_the_row_layout_is_moved_into_blocks_and_replayed(tmp_path: Path, user_version: int) -> None:
    lines = _lines(300)
    _row_log_database(tmp_path / "old.db", lines, user_version)
    migrated = EmbeddedRuntime(open_database(tmp_path / "old.db"))
    assert migrated.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not migrated.conn.execute("SELECT 1 FROM sqlite_master WHERE name IN ('events', 'decisions')").fetchall()
    reference = EmbeddedRuntime(open_database(tmp_path / "new.db"))
    reference.ingest([("test", line) for line in lines])
    assert [raw for _, raw in eventlog.lines(migrated.conn)] == lines
    assert tenant_document(migrated.conn, "contoso") == tenant_document(reference.conn, "contoso")
    assert list(decision_rows(migrated.conn)) == list(decision_rows(reference.conn))
    assert migrated.ingest([("test", line) for line in lines]).duplicates == len(lines)  # the ids came along


@pytest.mark.parametrize("slots", [newids.SLOTS, 64, 1])
def test_events_resent_within_one_ingest_of_new_tenants_are_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slots: int
) -> None:
    """For tenants new to the log an ingest looks up only the ids its filter may have marked: resent events are
    duplicates however full the filter (64 slots: most ids collide; 1: every id is looked up), and one tenant
    already in the log is looked up as before."""
    monkeypatch.setattr(newids, "SLOTS", slots)
    old = _lines(300, "fabrikam")
    EmbeddedRuntime(open_database(tmp_path / "reference.db")).ingest([("old", line) for line in old])
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    runtime.ingest([("old", line) for line in old[:150]])
    contoso = _lines(600)
    resent = contoso[:200] + contoso[100:400] + old[100:300] + contoso[50:600] + old[:300]  # across batches
    summary = runtime.ingest([("test", line) for line in resent], batch_size=100)
    assert (summary.accepted + summary.stale, summary.duplicates) == (750, len(resent) - 750)
    reference = EmbeddedRuntime(open_database(tmp_path / "reference.db"))
    reference.ingest([("test", line) for line in contoso])
    for tenant in ("contoso", "fabrikam"):
        assert tenant_document(runtime.conn, tenant) == tenant_document(reference.conn, tenant)
