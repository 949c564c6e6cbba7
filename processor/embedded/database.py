"""The embedded store's SQLite file: its pragmas, schema and migrations, opened the same way by every process."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from processor.embedded import eventlog
from projections.store import write_transaction

# 16 KiB pages for a new database instead of SQLite's 4 KiB: a batch's commit writes a quarter as many WAL frames
# and its key-ordered upserts fill them (the writes of a 1,000,000-event ingest, replayed alone: 4.4-4.6 s against
# 6.1-6.2 s; 8 KiB 4.8-5.0 s, 32 and 64 KiB no better than 16).
PAGE_SIZE = 16384
WAL_CHECKPOINT_BYTES = 400 * 1024 * 1024
SCHEMA_VERSION = 3  # 2: one decisions row per input event; 3: the logs in compressed blocks (eventlog)
SCHEMA = (
    eventlog.SCHEMA
    + """
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    tenant TEXT,
    origin TEXT NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    tenant TEXT PRIMARY KEY,
    event_seq INTEGER NOT NULL,
    state BLOB NOT NULL
);
"""
)


BUSY_TIMEOUT = 30.0  # seconds a statement waits for another process's lock (a projector's batch, an ingest)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the database to WAL, waiting out other processes.

    SQLite answers the switch with "database is locked" at once, without waiting as other statements do, while
    another connection holds the file: two processes opening a new database together (`licensing project` and
    `licensing wait`) would otherwise fail half the time. WAL is a property of the file, so once any of them has
    switched, the others find it in place.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"the database stayed locked for {BUSY_TIMEOUT:g} s: no switch to WAL")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script (a semicolon in a comment or a string does not end one)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""


def open_database(path: str | Path, create: bool = True) -> sqlite3.Connection:
    if not create and not Path(path).exists():
        raise FileNotFoundError(f"no licensing database at {path}")
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT)
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new database's; an existing one keeps its own
    _use_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    # Read-model upserts hit random keys of large tables: a page cache that holds them avoids re-reading pages.
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("PRAGMA mmap_size = 1073741824")
    # Checkpoint every ~400 MB of WAL instead of 4 MB: a batch's read-model upserts dirty pages all over their tables,
    # and pages rewritten by consecutive batches are copied into the database once per checkpoint (a one-CPU ingest
    # of 1,000,000 events: median 20.65 s against 21.34 s at ~100 MB, five alternating runs each). A page read that
    # misses the cache searches the WAL index, which costs more the longer the WAL is, but the `scale` benchmark's
    # 1,000,000-user tenant measured no slower (60,969 against 57,967 events/s at ~100 MB).
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // page_size}")
    conn.execute("PRAGMA journal_size_limit = 67108864")  # but give the space back after a checkpoint
    with write_transaction(conn):  # one process at a time creates or migrates the schema
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for statement in _statements(SCHEMA):  # executescript would commit the transaction first
            conn.execute(statement)
        if version < SCHEMA_VERSION and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
            # A log of one row per event: move it into blocks; EmbeddedRuntime rebuilds what derives from it.
            eventlog.migrate_row_log(conn)
            conn.execute("PRAGMA user_version = 1")
        elif version == 0:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # a new database
    return conn
