"""Which files the store opens, and what it leaves behind: foreign files untouched, read-only opens that write
nothing, and a database file that holds everything once a command has closed it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from processor.demo.generator import generate_demo_events
from processor.embedded.database import SCHEMA_VERSION, close_database, open_database
from processor.embedded.errors import NewerDatabase, NoDatabase, NotALicensingDatabase, StoreError
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document


def _foreign_database(path: Path) -> bytes:
    """Someone else's SQLite file (a rollback-journal database with its own tables); its bytes."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (number INTEGER PRIMARY KEY, customer TEXT)")
    conn.execute("INSERT INTO invoices VALUES (1, 'Contoso')")
    conn.commit()
    conn.close()
    return path.read_bytes()


def _licensing_database(path: Path, users: int = 200) -> dict[str, object]:
    runtime = EmbeddedRuntime(open_database(path))
    runtime.ingest([("demo", json.dumps(event).encode()) for event in generate_demo_events(users=users)])
    document = tenant_document(runtime.conn, "contoso")
    close_database(runtime.conn)
    return document


@pytest.mark.parametrize("read_only", [True, False])
def test_a_foreign_sqlite_file_is_refused_and_left_byte_identical(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "invoices.db"
    before = _foreign_database(path)
    with pytest.raises(NotALicensingDatabase, match="a SQLite database of something else \\(tables: invoices\\)"):
        open_database(path, read_only=read_only)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["invoices.db"]  # no -wal, no -shm


@pytest.mark.parametrize("read_only", [True, False])
def test_a_file_that_is_not_sqlite_is_refused_and_left_byte_identical(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"specversion": "1.0"}\n' * 100)
    with pytest.raises(NotALicensingDatabase, match="is not a SQLite database"):
        open_database(path, read_only=read_only)
    assert path.read_bytes() == b'{"specversion": "1.0"}\n' * 100


def test_a_missing_or_empty_file_is_a_new_database_only_for_a_writing_open(tmp_path: Path) -> None:
    with pytest.raises(NoDatabase, match="no licensing database at"):
        open_database(tmp_path / "missing.db", read_only=True)
    with pytest.raises(NoDatabase):
        open_database(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(NotALicensingDatabase, match="an empty SQLite database"):
        open_database(empty, read_only=True)
    assert empty.read_bytes() == b""
    conn = open_database(empty)  # a writing open makes it a new licensing database
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    close_database(conn)
    assert open_database(empty, read_only=True).execute("SELECT count(*) FROM log_blocks").fetchone() == (0,)


def test_a_licensing_database_opened_read_only_is_readable_and_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "tenant.db"
    expected = _licensing_database(path)
    before = path.read_bytes()
    conn = open_database(path, read_only=True)
    assert tenant_document(conn, "contoso") == expected
    with pytest.raises(sqlite3.OperationalError, match="readonly|read-only"):
        conn.execute("DELETE FROM snapshots")
    close_database(conn)
    assert path.read_bytes() == before


def test_a_database_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tenant.db"
    _licensing_database(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    for read_only in (True, False):
        with pytest.raises(NewerDatabase, match=f"layout {SCHEMA_VERSION + 1}; this one reads up to"):
            open_database(path, read_only=read_only)
    assert path.read_bytes() == before


def test_every_refusal_is_a_store_error_of_one_line(tmp_path: Path) -> None:
    path = tmp_path / "invoices.db"
    _foreign_database(path)
    with pytest.raises(StoreError) as refused:
        open_database(path)
    assert "\n" not in str(refused.value) and str(path) in str(refused.value)


def test_a_closed_database_file_holds_everything_without_its_write_ahead_log(tmp_path: Path) -> None:
    """A user copies the database file alone: once the command has closed it, the copy is the whole store, even
    while another process (a dashboard, `licensing wait`) still has the database open."""
    path = tmp_path / "demo.db"
    open_database(path).close()
    onlooker = sqlite3.connect(path)  # open, idle: SQLite's own checkpoint at the last close does not happen
    onlooker.execute("SELECT count(*) FROM log_blocks").fetchone()
    expected = _licensing_database(path, users=600)
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy" / "demo.db"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    assert tenant_document(open_database(copy, read_only=True), "contoso") == expected
    onlooker.close()
