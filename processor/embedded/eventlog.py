"""The embedded event log and decisions log: consecutive events stored as compressed blocks.

A row per event cost more than deciding it (SQLite's per-row work, plus every byte written twice through the WAL),
so the log keeps blocks of up to BLOCK events: the raw input lines of `seq` first_seq .. first_seq + events - 1,
packed and compressed with Zstandard (JSON lines shrink ~14x). The decisions log has one block per log block,
holding each event's outputs. Small row tables beside them: `event_ids` makes an id already in the log a duplicate
(SPEC §2.17) and keeps a digest of its event's line, so that an id sent again with other content is told apart;
`block_tenants` lists the blocks holding events of each tenant, so that loading a tenant reads its blocks only;
`stale_events` lists the events decided stale. Everything but `log_blocks`, `event_ids` and `block_tenants` is
derived and is rebuilt by a replay.

Bit rot is caught, never decoded into other events: every block is stored with a digest of its position, size and
bytes, and its Zstandard frame with the frame's own checksum; a block that fails either raises LogCorrupted naming
it. (Blocks written before layout 4 have no digest and are read as they are.)
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence

import orjson
import zstandard

from events import parse_event
from processor.embedded.errors import LogCorrupted, NoEventLog
from projections.store import POSITIONS

BLOCK = 1_000  # events per block: big enough to compress well, small enough to read one event cheaply
# Zstandard level 1 packs a block of these JSON lines ~3.5x faster than zlib's fastest level did (0.17 against 0.50 us
# an event) and ~1.4x smaller (14x against 10x); higher levels cost more for little (bench/README.md).
COMPRESSION = 1
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # every Zstandard frame starts so; a zlib stream (older blocks) never does

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_blocks (
    first_seq INTEGER PRIMARY KEY,  -- seq of its first event; the others follow without gaps
    events INTEGER NOT NULL,        -- how many events it holds
    lines BLOB NOT NULL,            -- their raw input lines, packed (see pack)
    digest BLOB                     -- block_digest(first_seq, events, lines); NULL in blocks older than layout 4
);
CREATE TABLE IF NOT EXISTS event_ids (  -- the ids in the log: an index alone (no rowid, no seq) is the cheapest
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    digest INTEGER,                 -- line_digest of its event's line; NULL for ids logged before layout 4
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS block_tenants (  -- which log blocks hold events of a tenant
    tenant TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    PRIMARY KEY (tenant, first_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decision_blocks (
    first_seq INTEGER PRIMARY KEY,  -- the log block decided
    outputs BLOB NOT NULL,          -- per event of that block, its encode_outputs (empty: none), packed
    digest BLOB                     -- block_digest(first_seq, -1, outputs); NULL in blocks older than layout 4
);
CREATE TABLE IF NOT EXISTS stale_events (
    seq INTEGER PRIMARY KEY
);
"""
DIGESTS_LAYOUT = 4  # the database layout that added the digests and block_tenants
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
    # One per block or call (~8 us): instances must not be shared between threads. The frame carries a checksum of
    # its content, which decompressing verifies.
    return zstandard.ZstdCompressor(level=COMPRESSION, write_checksum=True)


def unpack(blob: bytes) -> list[bytes]:
    """The items of a packed block: Zstandard, or zlib as databases written before it hold."""
    return unframe(zstandard.ZstdDecompressor().decompress(blob) if blob[:4] == ZSTD_MAGIC else zlib.decompress(blob))


def block_digest(first_seq: int, events: int, blob: bytes) -> bytes:
    """What a stored block is checked against: a digest of where it is, how many events it holds, and its bytes
    (a decisions block: events -1)."""
    digest = hashlib.blake2b(struct.pack("<qq", first_seq, events), digest_size=16)
    digest.update(blob)
    return digest.digest()


# A digest of an event's line, as `event_ids` keeps it beside the id: its CRC-32, which tells lines apart but for
# one pair in ~4 billion (then an id resent with another line counts as a duplicate, as every resend did before
# digests). A 64-bit BLAKE2b digest cost 0.5 us per event more (0.35 to compute, 0.14 to store): ~2.5 % of a
# one-CPU ingest.
line_digest = zlib.crc32


def open_block(
    table: str, first_seq: int, events: int, blob: bytes, digest: bytes | None, count_known: bool = True
) -> list[bytes]:
    """The items (one per event) of a stored block of `table` once it passes its checks; LogCorrupted naming the
    block if it does not. `events`: its log block's count (`count_known` False: a damaged one, not checked)."""
    expected = block_digest(first_seq, -1 if table == "decision_blocks" else events, blob) if digest else None
    if expected != digest:
        raise LogCorrupted(table, first_seq, events, "its bytes do not match their digest")
    try:
        items = unpack(blob)
    except (zstandard.ZstdError, zlib.error, struct.error, ValueError) as exc:
        raise LogCorrupted(table, first_seq, events, f"it does not decompress: {exc}") from None
    if count_known and len(items) != events:
        raise LogCorrupted(table, first_seq, events, f"it holds {len(items)} items")
    return items


def has_layout(conn: sqlite3.Connection, layout: int) -> bool:
    """Whether the database has this layout or a later one (a read-only connection may find an older one)."""
    return bool(conn.execute("PRAGMA user_version").fetchone()[0] >= layout)


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT first_seq + events - 1 FROM log_blocks ORDER BY first_seq DESC LIMIT 1").fetchone()
    return row[0] if row else 0


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(sum(events), 0) FROM log_blocks").fetchone()[0])


def require_event_log(conn: sqlite3.Connection) -> None:
    """NoEventLog for a database that holds read models but no event log: a Kafka projector's, whose read models
    come from the decisions topic (replaying its empty log would empty them)."""
    if last_seq(conn) == 0 and conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (POSITIONS,)).fetchone():
        if conn.execute(f"SELECT 1 FROM {POSITIONS} LIMIT 1").fetchone():
            (path,) = [file for _, name, file in conn.execute("PRAGMA database_list") if name == "main"]
            raise NoEventLog(
                f"{path or 'the database'} holds read models but no event log (as a Kafka projector's database "
                "does): there is nothing to replay or travel back in"
            )


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


def write_blocks(conn: sqlite3.Connection, blocks: Sequence[Block], tenants: Iterable[tuple[str, int]] = ()) -> None:
    """Compress and store blocks: their lines (unless logged already), their decisions, and the (tenant, first
    seq) rows of block_tenants for the new ones."""
    compressor = _compressor()
    logged = []
    for seq, count, lines, _ in blocks:
        if lines is not None:
            packed = compressor.compress(lines)
            logged.append((seq, count, packed, block_digest(seq, count, packed)))
    conn.executemany("INSERT INTO log_blocks (first_seq, events, lines, digest) VALUES (?, ?, ?, ?)", logged)
    decisions = []
    for seq, _, _, outputs in blocks:
        packed = compressor.compress(outputs)
        decisions.append((seq, packed, block_digest(seq, -1, packed)))
    conn.executemany("INSERT INTO decision_blocks (first_seq, outputs, digest) VALUES (?, ?, ?)", decisions)
    conn.executemany("INSERT INTO block_tenants (tenant, first_seq) VALUES (?, ?)", tenants)


def block_tenants(first_seq: int, tenants: Sequence[str]) -> list[tuple[str, int]]:
    """The block_tenants rows of consecutive events from `first_seq` on, of these tenants, cut into blocks of BLOCK."""
    return [
        (tenant, first_seq + at) for at in range(0, len(tenants), BLOCK) for tenant in set(tenants[at : at + BLOCK])
    ]


def _start(conn: sqlite3.Connection, after: int) -> int:
    """The first seq of the block holding seq `after` + 1 (0 for an empty log)."""
    return int(
        conn.execute(
            "SELECT coalesce(max(first_seq), 0) FROM log_blocks WHERE first_seq <= ?", (after + 1,)
        ).fetchone()[0]
    )


def blocks(conn: sqlite3.Connection, after: int = 0, tenant: str | None = None) -> Iterator[tuple[int, list[bytes]]]:
    """(first seq, raw lines) of every block holding an event after seq `after`, in log order; with `tenant`, only
    the blocks holding events of that tenant (which hold other tenants' events too)."""
    digest = "digest" if has_layout(conn, DIGESTS_LAYOUT) else "NULL"
    start = _start(conn, after)
    if tenant is not None and has_layout(conn, DIGESTS_LAYOUT):
        cursor = conn.execute(
            f"SELECT b.first_seq, b.events, b.lines, b.{digest} FROM block_tenants t JOIN log_blocks b USING "
            "(first_seq) WHERE t.tenant = ? AND t.first_seq >= ? ORDER BY t.first_seq",
            (tenant, start),
        )
    else:
        cursor = conn.execute(
            f"SELECT first_seq, events, lines, {digest} FROM log_blocks WHERE first_seq >= ? ORDER BY first_seq",
            (start,),
        )
    while rows := cursor.fetchmany(16):
        for first, count, packed, stored_digest in rows:
            yield first, open_block("log_blocks", first, count, packed, stored_digest)


def lines(conn: sqlite3.Connection, after: int = 0, tenant: str | None = None) -> Iterator[tuple[int, bytes]]:
    """(seq, raw line) of every event after seq `after`, in log order; with `tenant`, those of the blocks holding
    that tenant's events (the caller leaves out the other tenants' events)."""
    for first, raw_lines in blocks(conn, after, tenant):
        for seq, raw in enumerate(raw_lines, first):
            if seq > after:
                yield seq, raw


def decided(conn: sqlite3.Connection) -> Iterator[tuple[int, bytes, bytes]]:
    """(seq, raw line, stored outputs) of every event that has outputs, in log order."""
    digests = "l.digest, d.digest" if has_layout(conn, DIGESTS_LAYOUT) else "NULL, NULL"
    cursor = conn.execute(
        f"SELECT l.first_seq, l.events, l.lines, d.outputs, {digests} FROM log_blocks l "
        "JOIN decision_blocks d USING (first_seq) ORDER BY l.first_seq"
    )
    while rows := cursor.fetchmany(16):
        for first, count, packed_lines, packed_outputs, lines_digest, outputs_digest in rows:
            raw_lines = open_block("log_blocks", first, count, packed_lines, lines_digest)
            outputs = open_block("decision_blocks", first, count, packed_outputs, outputs_digest)
            for seq, (raw, stored) in enumerate(zip(raw_lines, outputs), first):
                if stored:
                    yield seq, raw, stored


def _json(value: object) -> str | None:
    """The value as JSON for SQLite's json_each, or None if a string holds NUL (its JSON reader would cut it short)."""
    payload = orjson.dumps(value)
    return None if b"\\u0000" in payload else payload.decode()


def known_ids(conn: sqlite3.Connection, tenant: str, ids: Iterable[str]) -> dict[str, int | None]:
    """Those of the tenant's `ids` that are in the log already, with the digest of the line logged under each (None
    for ids logged before layout 4): their events are duplicates, or id conflicts if their lines differ.

    One statement over a JSON array instead of a query per id: SQLite unpacks the array itself (bench/README.md).
    An id holding NUL, which SQLite's JSON reader would cut short, is looked up on its own.
    """
    ids = list(ids)
    digest = "digest" if has_layout(conn, DIGESTS_LAYOUT) else "NULL"
    payload = _json(ids)
    if payload is None:
        query = f"SELECT {digest} FROM event_ids WHERE tenant = ? AND id = ?"
        found = {event_id: conn.execute(query, (tenant, event_id)).fetchone() for event_id in ids}
        return {event_id: row[0] for event_id, row in found.items() if row}
    return dict(conn.execute(KNOWN_IDS.format(digest=digest), (payload, tenant)).fetchall())


# CROSS JOIN keeps the array the outer loop, each of its ids looked up in the index: with a plain JOIN SQLite walks
# all of the tenant's ids once per array, which made a 1,000,000-event ingest ~45 times slower.
KNOWN_IDS = "SELECT j.value, e.{digest} FROM json_each(?) j CROSS JOIN event_ids e ON e.tenant = ? AND e.id = j.value"


def record_ids(conn: sqlite3.Connection, tenant: str, ids: dict[str, int]) -> None:
    """Record the ids of newly logged events with the digests of their lines; one already there is an error
    (IntegrityError): only a process appending to the log meanwhile can have put it there, and then this batch's
    sequence numbers are taken too."""
    payload = _json(ids)  # one JSON object, id -> digest, which json_each walks as (key, value)
    if payload is None:
        rows = [(tenant, event_id, digest) for event_id, digest in ids.items()]
        conn.executemany("INSERT INTO event_ids (tenant, id, digest) VALUES (?, ?, ?)", rows)
    else:
        conn.execute(
            "INSERT INTO event_ids (tenant, id, digest) SELECT ?, key, value FROM json_each(?)", (tenant, payload)
        )


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
    ids: list[tuple[str, str, int]] = []
    tenants: list[str] = []
    for tenant, event_id, body in conn.execute("SELECT tenant, id, body FROM events ORDER BY seq"):
        line = bytes(body)
        ids.append((tenant, event_id, line_digest(line)))
        batch.append(line)
        tenants.append(tenant)
    conn.executemany("INSERT INTO event_ids (tenant, id, digest) VALUES (?, ?, ?)", ids)
    write_blocks(conn, framed_blocks(first, batch, [b""] * len(batch)), block_tenants(first, tenants))
    conn.execute("DROP TABLE events")
    conn.execute("DROP TABLE IF EXISTS decisions")


def migrate_to_layout_4(conn: sqlite3.Connection) -> None:
    """Bring a log of layout 3 up to date, in the caller's transaction: digest columns (NULL for what is there:
    old blocks are read unchecked, old ids compare as duplicates), and block_tenants filled from the blocks."""
    conn.execute("ALTER TABLE log_blocks ADD COLUMN digest BLOB")
    conn.execute("ALTER TABLE decision_blocks ADD COLUMN digest BLOB")
    conn.execute("ALTER TABLE event_ids ADD COLUMN digest INTEGER")
    cursor = conn.execute("SELECT first_seq, events, lines FROM log_blocks ORDER BY first_seq")
    while rows := cursor.fetchmany(16):
        for first, count, packed in rows:
            tenants = {parse_event(raw).tenant for raw in open_block("log_blocks", first, count, packed, None)}
            conn.executemany(
                "INSERT INTO block_tenants (tenant, first_seq) VALUES (?, ?)", [(t, first) for t in tenants]
            )
