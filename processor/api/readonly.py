"""Read-only connections to the store, one per thread: each reader of the server (the read models, the dashboard's
queries and its history) opens its own beside the one writer, as a sqlite3 connection is not shared across threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote


class ReadOnlyConnections:
    """A read-only connection to `database` for each thread that asks, opened on first use with these pragmas."""

    def __init__(self, database: Path, *pragmas: str) -> None:
        self._uri = f"file:{quote(str(Path(database).resolve()))}?mode=ro"
        self._pragmas = ("query_only = 1", *pragmas)
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._uri, uri=True, isolation_level=None, timeout=30.0)
            for pragma in self._pragmas:
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
        return conn
