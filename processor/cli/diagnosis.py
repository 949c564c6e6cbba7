"""What went wrong, told in one line: the errors of the store, of SQLite and of the system, by their cause.

An error is often raised while handling the one that matters: after "database or disk is full" SQLite has already
rolled the transaction back, and the ROLLBACK that follows fails with "cannot rollback - no transaction is active".
So the chain of an error is searched from its first cause on, and the first cause known here is the one told.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator

from processor.embedded.database import BUSY_TIMEOUT
from processor.embedded.errors import StoreError
from processor.embedded.writer import WriterFailed

# SQLite's primary result codes and its own words for them (sqlite3_errstr), which is all a writer process's report
# (a traceback's text) holds of them; "stayed locked" is the embedded store's own message for a lock that held.
CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SQLITE_FULL", ("database or disk is full",)),
    ("SQLITE_READONLY", ("attempt to write a readonly database",)),
    ("SQLITE_BUSY", ("database is locked", "stayed locked")),
    ("SQLITE_LOCKED", ("database table is locked",)),
    ("SQLITE_NOTADB", ("file is not a database",)),
    ("SQLITE_CORRUPT", ("database disk image is malformed",)),
    ("SQLITE_IOERR", ("disk I/O error",)),
    ("SQLITE_CANTOPEN", ("unable to open database file",)),
    ("SQLITE_NOMEM", ("out of memory",)),
)


def explain(error: BaseException, database: str | None) -> str | None:
    """One line saying what is wrong, for an error whose cause is known; None for any other."""
    for cause in first_causes(error):
        if isinstance(cause, StoreError):
            return str(cause)
        if isinstance(cause, sqlite3.Error):
            code = _sqlite_code(cause)
            if code is not None:
                return _sqlite_message(code, database)
        if isinstance(cause, WriterFailed):
            code = _code_in_report(str(cause))
            if code is not None:
                return _sqlite_message(code, database)
        if isinstance(cause, OSError):
            message = _os_message(cause, database)
            if message is not None:
                return message
    return None


def unexpected(error: BaseException) -> str:
    """The one line of an error no one foresaw: its type and first line, and how to see where it came from."""
    lines = str(error).strip().splitlines()
    text = f": {lines[0]}" if lines else ""
    return f"unexpected {type(error).__name__}{text} (run with LICENSING_DEBUG=1 for the traceback)"


def first_causes(error: BaseException) -> Iterator[BaseException]:
    """The error's chain (what it was raised from or while handling), its first cause first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return reversed(chain)


def _sqlite_code(error: sqlite3.Error) -> str | None:
    name = getattr(error, "sqlite_errorname", None)  # an extended code's name starts with its primary one's
    text = str(error)
    for code, words in CAUSES:
        if (name is not None and (name == code or name.startswith(code + "_"))) or any(w in text for w in words):
            return code
    return None


def _code_in_report(report: str) -> str | None:
    """The first SQLite cause named in a writer process's report (its traceback lists the first cause first)."""
    for line in report.splitlines():
        for code, words in CAUSES:
            if any(w in line for w in words):
                return code
    return None


def _sqlite_message(code: str, database: str | None) -> str:
    db = database or "the database"
    messages = {
        "SQLITE_FULL": f"the disk is full: {db} cannot grow (the batch under way was not written); free some space "
        "and run the command again (an ingest goes on where it stopped)",
        "SQLITE_READONLY": f"{db} is read-only: cannot write to it (check the permissions of the file and its "
        "directory)",
        "SQLITE_BUSY": f"{db} is locked by another process (waited {BUSY_TIMEOUT:g} s): run the command again once "
        "that one is done",
        "SQLITE_LOCKED": f"{db} is locked by another connection: run the command again once it is done",
        "SQLITE_NOTADB": f"{db} is not a SQLite database, or its header is damaged",
        "SQLITE_CORRUPT": f"{_damage(database) if database else 'the database is damaged'}; "
        f"`licensing verify --db {db}` tells what is intact, `licensing replay --db {db}` rebuilds what derives from "
        "the event log",
        "SQLITE_IOERR": f"cannot read or write {db}: the disk reported an I/O error",
        "SQLITE_CANTOPEN": f"cannot open {db}: does its directory exist, and may this user write there?",
        "SQLITE_NOMEM": "out of memory",
    }
    return messages[code]


def _damage(database: str) -> str:
    """What is wrong with a database SQLite found malformed: cut short (its header counts more pages than the file
    holds: a copy or a disk that stopped early), or damaged inside."""
    try:
        with open(database, "rb") as file:
            header = file.read(100)
            size = file.seek(0, os.SEEK_END)
    except OSError:
        header, size = b"", 0
    if len(header) == 100:
        page_size = int.from_bytes(header[16:18], "big")
        expected = (65536 if page_size == 1 else page_size) * int.from_bytes(header[28:32], "big")
        if size < expected:
            return f"{database} is truncated: the file holds {size:,} of its {expected:,} bytes"
    return f"{database} is damaged inside (SQLite: database disk image is malformed)"


def _os_message(error: OSError, database: str | None) -> str | None:
    where = error.filename or database or "a file"
    reasons = {
        errno.ENOSPC: f"the disk is full: cannot write {where}; free some space and run the command again",
        errno.EDQUOT: f"the disk quota is exhausted: cannot write {where}",
        errno.EROFS: f"cannot write {where}: the file system is read-only",
        errno.EACCES: f"cannot use {where}: permission denied",
        errno.EPERM: f"cannot use {where}: operation not permitted",
        errno.ENOENT: f"cannot use {where}: no such file or directory",
        errno.EISDIR: f"cannot use {where}: it is a directory",
        errno.EIO: f"cannot read or write {where}: the disk reported an I/O error",
        errno.EMFILE: "too many open files (raise the limit: ulimit -n)",
    }
    return reasons.get(error.errno or 0)
