"""One appender at a time: an ingest (or a replay) holds an exclusive lock on the log for as long as it runs.

Two ingests of one database would otherwise both number their batches from the same end of the log, and the second
to commit would find its sequence numbers taken. With the lock, the second waits for the first (up to a bound, then
IngestRunning), and starts from where the first ended.

The lock is `flock` on a file beside the database (`<db>-ingest.lock`, removed by its holder when done), not a row
in it: the system releases it when its process ends however it ends (a `kill -9` leaves the file but no stale
lock), and it does not touch SQLite's own locks on the database file.
Where the system has no `flock` (Windows), ingests are not serialised.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from processor.embedded.errors import IngestRunning

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_WAIT = 600.0  # seconds an ingest waits for another one to finish before giving up


def lock_path(conn: sqlite3.Connection) -> str | None:
    """The lock file of the connection's database (None: an in-memory database, which no other process sees)."""
    (path,) = [file for _, name, file in conn.execute("PRAGMA database_list") if name == "main"]
    return f"{path}-ingest.lock" if path else None


@contextmanager
def log_lock(
    conn: sqlite3.Connection, wait: float = LOCK_WAIT, waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the log's lock inside the block; `waiting()` is called once if another process holds it first."""
    path = lock_path(conn)
    if path is None or fcntl is None:
        yield
        return
    fd = _acquire(path, wait, waiting)
    try:
        yield
    finally:
        os.unlink(path)  # while still held: a process waiting on this file finds it gone and opens a new one
        os.close(fd)  # releases the lock


def _acquire(path: str, wait: float, waiting: Callable[[], None] | None) -> int:
    """The descriptor of the lock file, locked. The holder removes the file when done (so nothing is left beside
    the database); a lock won on a file already removed is let go and the new file tried."""
    deadline = time.monotonic() + wait
    pause = 0.01
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _still_there(fd, path):
                return fd
        except BlockingIOError:
            pass
        os.close(fd)
        if waiting is not None:
            waiting()
            waiting = None
        if time.monotonic() >= deadline:
            database = path.removesuffix("-ingest.lock")
            raise IngestRunning(
                f"another ingest or replay of {database} is still running after {wait:g} s of waiting; "
                "try again once it is done"
            )
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, 0.5)


def _still_there(fd: int, path: str) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
