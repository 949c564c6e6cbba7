"""The embedded event log and decisions log: consecutive events stored as compressed blocks.

A row per event cost more than deciding it (SQLite's per-row work, plus every byte written twice through the WAL),
so the log keeps blocks of up to BLOCK events: the raw input lines of `seq` first_seq .. first_seq + events - 1,
packed and compressed with Zstandard (JSON lines shrink ~14x). The decisions log has one block per log block,
holding each event's outputs. Two small row tables remain: `event_ids` makes an id already in the log a duplicate
(SPEC §2.17), and `stale_events` lists the events decided stale. Everything but `log_blocks` and `event_ids` is
derived and is rebuilt by a replay.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from collections.abc import Iterator, Sequence

import orjson
import zstandard

from events import parse_event

BLOCK = 1_000  # events per block: big enough to compress well, small enough to read one event cheaply
# Zstandard level 1 packs a block of these JSON lines ~3.5x faster than zlib's fastest level did (0.17 against 0.50 us
# an event) and ~1.4x smaller (14x against 10x); higher levels cost more for little (bench/README.md).
COMPRESSION = 1
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # every Zstandard frame starts so; a zlib stream (older blocks) never does

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_blocks (
    first_seq INTEGER PRIMARY KEY,  -- seq of its first event; the others follow without gaps
    events INTEGER NOT NULL,        -- how many events it holds
    lines BLOB NOT NULL             -- their raw input lines, packed (see pack)
);
CREATE TABLE IF NOT EXISTS event_ids (  -- the ids in the log: an index alone (no rowid, no seq) is the cheapest
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decision_blocks (
    first_seq INTEGER PRIMARY KEY,  -- the log block decided
    outputs BLOB NOT NULL           -- per event of that block, its encode_outputs (empty: none), packed
);
CREATE TABLE IF NOT EXISTS stale_events (
    seq INTEGER PRIMARY KEY
);
"""
DERIVED_TABLES = ("decision_blocks", "stale_events")


def frame(items: Sequence[bytes]) -> bytes:
    """Byte strings (which may contain anything, newlines included) as one: their count, lengths, and contents."""
    return struct.pack(f"<I{len(items)}I", len(items), *map(len, items)) + b"".join(items)


def unframe(data: bytes) -> list[bytes]:
    (count,) = struct.unpack_from("<I", data)
    lengths = struct.unpack_from(f"<{count}I", data, 4)
    items, at = [], 4 + 4 * count
    for length in lengths:
        items.append(data[at : at + length])
        at += length
    return items


def pack(items: Sequence[bytes]) -> bytes:
    """Byte strings as one compressed blob."""
    return _compressor().compress(frame(items))


def _compressor() -> zstandard.ZstdCompressor:
    # One per block or call (~8 us): instances must not be shared between threads.
    return zstandard.ZstdCompressor(level=COMPRESSION)


def unpack(blob: bytes) -> list[bytes]:
    """The items of a packed block: Zstandard, or zlib as databases written before it hold."""
    return unframe(zstandard.ZstdDecompressor().decompress(blob) if blob[:4] == ZSTD_MAGIC else zlib.decompress(blob))


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT first_seq + events - 1 FROM log_blocks ORDER BY first_seq DESC LIMIT 1").fetchone()
    return row[0] if row else 0


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(sum(events), 0) FROM log_blocks").fetchone()[0])


# A run of consecutive events as written: (seq of the first, how many, their framed raw lines or None when they are
# in the log already, their framed outputs). Framing is cheap; the writer compresses.
Block = tuple[int, int, bytes | None, bytes]


def framed_blocks(first_seq: int, lines: Sequence[bytes] | None, outputs: Sequence[bytes]) -> list[Block]:
    """Consecutive events from `first_seq` on (outputs[i] belongs to lines[i]) cut into framed blocks of BLOCK."""
    return [
        (
            first_seq + at,
            len(outputs[at : at + BLOCK]),
            None if lines is None else frame(lines[at : at + BLOCK]),
            frame(outputs[at : at + BLOCK]),
        )
        for at in range(0, len(outputs), BLOCK)
    ]


def append(conn: sqlite3.Connection, first_seq: int, lines: Sequence[bytes], outputs: Sequence[bytes]) -> None:
    """Store consecutive events from `first_seq` on and their decisions (outputs[i] belongs to lines[i])."""
    write_blocks(conn, framed_blocks(first_seq, lines, outputs))


def write_blocks(conn: sqlite3.Connection, blocks: Sequence[Block]) -> None:
    """Compress and store blocks: their lines (unless logged already) and their decisions."""
    compressor = _compressor()
    logged = [(seq, count, compressor.compress(lines)) for seq, count, lines, _ in blocks if lines is not None]
    conn.executemany("INSERT INTO log_blocks (first_seq, events, lines) VALUES (?, ?, ?)", logged)
    decisions = [(seq, compressor.compress(outputs)) for seq, _, _, outputs in blocks]
    conn.executemany("INSERT INTO decision_blocks (first_seq, outputs) VALUES (?, ?)", decisions)


def blocks(conn: sqlite3.Connection, after: int = 0) -> Iterator[tuple[int, list[bytes]]]:
    """(first seq, raw lines) of every block holding an event after seq `after`, in log order."""
    start = conn.execute(
        "SELECT coalesce(max(first_seq), 0) FROM log_blocks WHERE first_seq <= ?", (after + 1,)
    ).fetchone()[0]
    cursor = conn.execute("SELECT first_seq, lines FROM log_blocks WHERE first_seq >= ? ORDER BY first_seq", (start,))
    while rows := cursor.fetchmany(16):
        for first, packed in rows:
            yield first, unpack(packed)


def lines(conn: sqlite3.Connection, after: int = 0) -> Iterator[tuple[int, bytes]]:
    """(seq, raw line) of every event after seq `after`, in log order."""
    for first, raw_lines in blocks(conn, after):
        for seq, raw in enumerate(raw_lines, first):
            if seq > after:
                yield seq, raw


def decided(conn: sqlite3.Connection) -> Iterator[tuple[int, bytes, bytes]]:
    """(seq, raw line, stored outputs) of every event that has outputs, in log order."""
    cursor = conn.execute(
        "SELECT l.first_seq, l.lines, d.outputs FROM log_blocks l JOIN decision_blocks d USING (first_seq) "
        "ORDER BY l.first_seq"
    )
    while rows := cursor.fetchmany(16):
        for first, packed_lines, packed_outputs in rows:
            for seq, (raw, stored) in enumerate(zip(unpack(packed_lines), unpack(packed_outputs)), first):
                if stored:
                    yield seq, raw, stored


def _json_array(ids: list[str]) -> str | None:
    """The ids as a JSON array for SQLite's json_each, or None if one holds NUL (its JSON reader would cut it short)."""
    payload = orjson.dumps(ids)
    return None if b"\\u0000" in payload else payload.decode()


def known_ids(conn: sqlite3.Connection, tenant: str, ids: list[str]) -> set[str]:
    """Those of the tenant's `ids` that are in the log already (their events are duplicates).

    One statement over a JSON array instead of a query per id: SQLite unpacks the array itself (bench/README.md).
    An id holding NUL, which SQLite's JSON reader would cut short, is looked up on its own.
    """
    payload = _json_array(ids)
    if payload is None:
        query = "SELECT 1 FROM event_ids WHERE tenant = ? AND id = ?"
        return {event_id for event_id in ids if conn.execute(query, (tenant, event_id)).fetchone()}
    rows = conn.execute(
        "SELECT value FROM json_each(?) WHERE EXISTS (SELECT 1 FROM event_ids WHERE tenant = ? AND id = value)",
        (payload, tenant),
    )
    return {event_id for (event_id,) in rows}


def record_ids(conn: sqlite3.Connection, tenant: str, ids: list[str]) -> None:
    """Record the ids of newly logged events; one already there is an error (IntegrityError): only a process
    appending to the log meanwhile can have put it there, and then this batch's sequence numbers are taken too."""
    payload = _json_array(ids)
    if payload is None:
        conn.executemany("INSERT INTO event_ids (tenant, id) VALUES (?, ?)", [(tenant, event_id) for event_id in ids])
    else:
        conn.execute("INSERT INTO event_ids (tenant, id) SELECT ?, value FROM json_each(?)", (tenant, payload))


def entries(conn: sqlite3.Connection) -> Iterator[tuple[int, str, str, str, str, str]]:
    """(seq, tenant, id, type, time, status) of every logged event: what an analyst or a test looks at."""
    stale = {seq for (seq,) in conn.execute("SELECT seq FROM stale_events")}
    for seq, raw in lines(conn):
        event = parse_event(raw)
        yield seq, event.tenant, event.id, event.type, event.time, "stale" if seq in stale else "applied"


def migrate_row_log(conn: sqlite3.Connection) -> None:
    """Move a log of one row per event (schema versions 1 and 2) into blocks, in seq order, and drop it with the
    decisions of that layout (SCHEMA must exist already), in the caller's transaction; the caller replays the log
    to rebuild decisions, snapshots and read models."""
    first = last_seq(conn) + 1
    batch: list[bytes] = []
    ids: list[tuple[str, str]] = []
    for tenant, event_id, body in conn.execute("SELECT tenant, id, body FROM events ORDER BY seq"):
        ids.append((tenant, event_id))
        batch.append(bytes(body))
    conn.executemany("INSERT INTO event_ids (tenant, id) VALUES (?, ?)", ids)
    append(conn, first, batch, [b""] * len(batch))
    conn.execute("DROP TABLE events")
    conn.execute("DROP TABLE IF EXISTS decisions")
