"""Faults a test cannot arrange from outside the `licensing` process, put into it by a `sitecustomize` module.

Python imports `sitecustomize` at start-up from the first directory of PYTHONPATH that has one, before the
command line runs (and the embedded writer process, which inherits the environment, imports it too). The executable,
SQLite and the errors are all real; the shim only narrows what the process is allowed: a database that may not grow
(a full disk, for any user, where a small tmpfs would need root) or a shorter wait for a lock.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from tests.cli.test_cli import clean_env

SMALL_DISK = """
    import sqlite3

    _connect = sqlite3.connect

    def connect(*args, **kwargs):
        conn = _connect(*args, **kwargs)
        conn.execute("PRAGMA max_page_count = {pages}")  # SQLite fails a write past it with SQLITE_FULL
        return conn

    sqlite3.connect = connect
"""

SHORT_LOCK_WAIT = """
    import sqlite3

    _connect = sqlite3.connect

    def connect(*args, **kwargs):
        kwargs["timeout"] = {seconds}  # how long a statement waits for another process's lock
        return _connect(*args, **kwargs)

    sqlite3.connect = connect
"""

RAISING = """
    from processor.embedded import runtime
    {imports}

    def ingest(self, *args, **kwargs):
        raise {error}

    runtime.EmbeddedRuntime.ingest = ingest
"""


def env_with(tmp_path: Path, code: str, **extra: str) -> dict[str, str]:
    """An environment whose `licensing` processes run `code` first."""
    folder = tmp_path / "sitecustomize"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(code))
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return clean_env(PYTHONPATH=path, **extra)
