"""The --db file, looked at before SQLite opens it, so that what keeps a command from using it is said plainly.

Checked first because SQLite's own answer comes late or misleads: it creates an empty database in a file it was
asked to read, names no file in its errors, and, opening a read-only database file for writing as root, creates its
-wal and -shm files with the database's read-only mode, which keep everyone else from opening the database. A file or
directory without any write permission bit counts as read-only here even for root, who could write it anyway.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from processor.cli.app import fail
from processor.embedded.database import open_database

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


@contextmanager
def opened_store(path: str, *, create: bool, write: bool) -> Iterator[sqlite3.Connection]:
    """The licensing database at `path` (created if missing and `create`), once `check_database` finds it usable;
    closed at the end, which folds the write-ahead log into the file and removes its -wal and -shm."""
    check_database(path, create=create, write=write)
    conn = open_database(path, create=create)
    try:
        yield conn
    finally:
        conn.close()


def check_database(path: str, *, create: bool, write: bool) -> None:
    """Fail with one line if the command cannot use `path` as its database: missing (unless `create`), not a
    SQLite file, unreadable, or (if `write`) read-only, as is the directory SQLite creates its -wal and -shm in."""
    file = Path(path)
    directory = file.parent
    try:
        status = file.stat()
    except FileNotFoundError:
        if not create:
            fail(f"no licensing database at {path}")
        if not directory.is_dir():
            fail(f"cannot create {path}: there is no directory {directory}")
        if is_read_only(directory):
            fail(f"cannot create {path}: the directory {directory} is read-only")
        return
    except OSError as exc:
        fail(f"cannot use {path}: {exc.strerror}")
    if stat.S_ISDIR(status.st_mode):
        fail(f"{path} is a directory, not a database file")
    if not stat.S_ISREG(status.st_mode):
        fail(f"{path} is not a regular file, so not a database")
    if not os.access(file, os.R_OK):
        fail(f"cannot read {path}: permission denied")
    if status.st_size == 0 and not create:
        fail(f"{path} is empty: no licensing database in it (ingest events into it first)")
    if status.st_size > 0:
        with open(file, "rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
        if header != SQLITE_HEADER:
            fail(f"{path} is not a licensing database: not a SQLite file")
    if write:
        if is_read_only(file):
            fail(f"{path} is read-only: cannot write to it")
        if is_read_only(directory):
            fail(f"cannot write {path}: its directory {directory} is read-only (SQLite writes {file.name}-wal there)")


def is_read_only(path: Path) -> bool:
    """Whether `path` may not be written: no permission, or no write bit at all (which root would ignore)."""
    return not os.access(path, os.W_OK) or not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
