"""The embedded store's SQLite file: its pragmas, schema and migrations, opened the same way by every process."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from processor.embedded import eventlog
from processor.embedded.errors import DatabaseLocked, NewerDatabase, NoDatabase, NotALicensingDatabase, OlderDatabase
from projections.store import POSITIONS, write_transaction

# 16 KiB pages for a new database instead of SQLite's 4 KiB: a batch's commit writes a quarter as many WAL frames
# and its key-ordered upserts fill them (the writes of a 1,000,000-event ingest, replayed alone: 4.4-4.6 s against
# 6.1-6.2 s; 8 KiB 4.8-5.0 s, 32 and 64 KiB no better than 16).
PAGE_SIZE = 16384
WAL_CHECKPOINT_BYTES = 400 * 1024 * 1024
# 2: one decisions row per input event; 3: the logs in compressed blocks (eventlog); 4: digests of blocks and of
# event lines, block_tenants
SCHEMA_VERSION = 4
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
            raise DatabaseLocked(f"the database stayed locked by another process for {BUSY_TIMEOUT:g} s")
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


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
OLDEST_READABLE = 3  # the oldest layout read-only commands read (1 and 2 need a writing command to move them)


def open_database(path: str | Path, *, create: bool = True, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the licensing database at `path`, its schema created or brought up to date.

    `create`: a missing (or empty) file becomes a new licensing database; otherwise NoDatabase. `read_only`: for
    commands that only read (export, as-of, verify): opened with SQLite's read-only mode, so nothing (no WAL
    switch, no schema, no version) is written to the file. A file that is not a licensing database is refused
    with NotALicensingDatabase before anything is written to it."""
    path = Path(path)
    if not path.exists() and (read_only or not create):
        raise NoDatabase(f"no licensing database at {path}")
    if path.is_dir():
        raise NotALicensingDatabase(f"{path} is a directory, not a licensing database")
    _check_header(path)
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT)
        try:
            if _check_licensing(conn, path, empty_is_new=False) < OLDEST_READABLE:
                raise OlderDatabase(
                    f"{path} has the layout of an older version: a writing command (licensing ingest or "
                    "licensing replay) brings it up to date"
                )
        except BaseException:
            conn.close()
            raise
        conn.execute("PRAGMA query_only = ON")  # (close_database knows it by this)
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("PRAGMA mmap_size = 1073741824")
        return conn
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT)
    try:
        _check_licensing(conn, path, empty_is_new=create)
        _configure(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def close_database(conn: sqlite3.Connection) -> None:
    """Close the connection, first copying the write-ahead log into the database file and emptying it.

    Without this the last commits of a command can stay in `<db>-wal` (up to WAL_CHECKPOINT_BYTES), and a copy of
    the database file alone lacks them, even the schema. If another process still uses the database, the
    checkpoint gets as far as it can and that process's own close finishes it."""
    try:
        if not conn.in_transaction and not conn.execute("PRAGMA query_only").fetchone()[0]:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _check_header(path: Path) -> None:
    """Refuse a file that is not SQLite (an empty file is a new database)."""
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise NotALicensingDatabase(f"cannot read {path}: {exc.strerror or exc}") from None
    if header and header != SQLITE_HEADER:
        raise NotALicensingDatabase(f"{path} is not a SQLite database, so not a licensing database")


# Tables by which a licensing database is known: the log (blocks, or rows before layout 3) or read models alone
# (a Kafka projector's database).
KNOWN_TABLES = ("log_blocks", POSITIONS)
ROW_LOG_COLUMNS = {"seq", "tenant", "id", "body"}


def _check_licensing(conn: sqlite3.Connection, path: Path, empty_is_new: bool) -> int:
    """The database's layout version (0 for a new one); NotALicensingDatabase for anything else, untouched."""
    try:
        conn.execute("BEGIN")  # both from one snapshot: another process may be creating the schema meanwhile
        try:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:  # "file is not a database": a damaged or encrypted header
        raise NotALicensingDatabase(f"{path} is not a readable SQLite database ({exc})") from None
    if not tables and version == 0:
        if empty_is_new:
            return 0
        raise NotALicensingDatabase(f"{path} is an empty SQLite database, not a licensing database")
    row_log = "events" in tables and ROW_LOG_COLUMNS <= {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if not row_log and not any(table in tables for table in KNOWN_TABLES):
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise NotALicensingDatabase(f"{path} is a SQLite database of something else (tables: {shown or 'none'})")
    if version > SCHEMA_VERSION:
        raise NewerDatabase(
            f"{path} was written by a newer version of licensing (layout {version}; this one reads up to "
            f"{SCHEMA_VERSION})"
        )
    return version


def _configure(conn: sqlite3.Connection) -> None:
    """Pragmas of a writing connection, and the schema created or migrated."""
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
        if version < 3 and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
            # A log of one row per event: move it into blocks; EmbeddedRuntime rebuilds what derives from it.
            eventlog.migrate_row_log(conn)
            conn.execute("PRAGMA user_version = 1")
        elif version == 3:
            eventlog.migrate_to_layout_4(conn)  # nothing derived changes: no replay
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version == 0:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # a new database
