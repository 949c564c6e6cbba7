"""Every failure a user can meet, met as a user would, through the real `licensing` executable: one line on stderr
saying what is wrong, a non-zero exit, no traceback, and nothing lost or left behind. And the inputs that look odd
but read fine (a byte order mark, /dev/null, a FIFO, a process substitution) are accepted."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import threading
from pathlib import Path

from tests.cli.shims import RAISING, SHORT_LOCK_WAIT, SMALL_DISK, env_with
from tests.cli.test_cli import (
    LICENSING,
    assert_one_line_failure,
    clean_env,
    event,
    export,
    ok,
    run,
    summary_counts,
    tenant_events,
    write_jsonl,
)


def many_events(count: int) -> list[dict[str, object]]:
    """Users with long display names, so that a few hundred of them need many more database pages."""
    return [
        event(f"bulk-{n}", 30 + n / 100, "UserCreated", userId=f"bulk-{n}", displayName="x" * 400) for n in range(count)
    ]


def ingested(tmp_path: Path, name: str = "contoso.db") -> Path:
    db = tmp_path / name
    ok(run("ingest", str(write_jsonl(tmp_path / "contoso.jsonl", tenant_events())), "--db", str(db), cwd=tmp_path))
    return db


def sidecars(db: Path) -> list[Path]:
    return [path for path in (Path(f"{db}-wal"), Path(f"{db}-shm")) if path.exists()]


def make_read_only(path: Path) -> None:
    path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


# ---- the command line itself ------------------------------------------------------------------------------------


def test_every_command_is_registered() -> None:
    result = ok(subprocess.run([str(LICENSING), "--help"], capture_output=True, text=True, check=False))
    commands = {"ingest", "export", "replay", "demo", "broker", "topics", "publish", "worker", "project", "wait"}
    commands |= {"serve", "verify", "explain", "timeline", "what-if", "fix-plan", "reprocess", "alerts", "report"}
    commands |= {"snapshot", "import", "conformance"}
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == commands


def test_a_usage_mistake_is_one_line_pointing_at_the_help(tmp_path: Path) -> None:
    result = run("ingest", "--db", str(tmp_path / "x.db"), cwd=tmp_path)
    assert_one_line_failure(result, "Missing argument", "licensing ingest --help")
    assert result.returncode == 2
    assert_one_line_failure(run("ingest", "x.jsonl", "--batch-size", "0", cwd=tmp_path), "--batch-size")
    assert_one_line_failure(run("exprot", cwd=tmp_path), "exprot")


# ---- --db files that are no licensing database ------------------------------------------------------------------


def test_an_empty_file_is_no_database_to_read_but_can_be_ingested_into(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    assert_one_line_failure(run("export", "--tenant", "contoso", "--db", str(db), cwd=tmp_path), "empty.db", "empty")
    assert_one_line_failure(run("replay", "--db", str(db), cwd=tmp_path), "empty.db", "empty")
    assert db.stat().st_size == 0 and not sidecars(db)
    ok(run("ingest", str(write_jsonl(tmp_path / "c.jsonl", tenant_events())), "--db", str(db), cwd=tmp_path))
    assert export(db, "contoso", tmp_path)["tenant"]["id"] == "contoso"


def test_a_file_that_is_not_sqlite_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("my shopping list\n" * 100)
    source = write_jsonl(tmp_path / "c.jsonl", tenant_events())
    for args in (["ingest", str(source)], ["export", "--tenant", "contoso"], ["replay"]):
        assert_one_line_failure(run(*args, "--db", str(db), cwd=tmp_path), "notes.db", "not a licensing database")
    assert db.read_text() == "my shopping list\n" * 100 and not sidecars(db)


def test_a_directory_as_database_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "store.d"
    folder.mkdir()
    assert_one_line_failure(run("export", "--tenant", "contoso", "--db", str(folder), cwd=tmp_path), "is a directory")


def test_a_database_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "c.jsonl", tenant_events())
    result = run("ingest", str(source), "--db", str(tmp_path / "nowhere" / "x.db"), cwd=tmp_path)
    assert_one_line_failure(result, "nowhere", "no directory")
    assert not (tmp_path / "nowhere").exists()


def test_a_read_only_database_is_not_written_and_gets_no_sidecar_files(tmp_path: Path) -> None:
    db = ingested(tmp_path)
    before = db.read_bytes()
    make_read_only(db)
    more = write_jsonl(tmp_path / "more.jsonl", many_events(5))
    assert_one_line_failure(run("ingest", str(more), "--db", str(db), cwd=tmp_path), "contoso.db", "read-only")
    assert_one_line_failure(run("replay", "--db", str(db), cwd=tmp_path), "contoso.db", "read-only")
    assert db.read_bytes() == before
    assert not sidecars(db)


def test_a_read_only_directory_is_not_written(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    db = ingested(folder)
    source = folder / "contoso.jsonl"
    make_read_only(folder)
    try:
        new = folder / "new.db"
        assert_one_line_failure(run("ingest", str(source), "--db", str(new), cwd=tmp_path), "new.db", "read-only")
        assert not new.exists()
        assert_one_line_failure(run("ingest", str(source), "--db", str(db), cwd=tmp_path), "contoso.db", "read-only")
        assert not sidecars(db)
    finally:
        folder.chmod(0o755)


def test_a_locked_database_says_so(tmp_path: Path) -> None:
    db = ingested(tmp_path)
    more = write_jsonl(tmp_path / "more.jsonl", many_events(5))
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        result = run(
            "ingest",
            str(more),
            "--db",
            str(db),
            cwd=tmp_path,
            env=env_with(tmp_path, SHORT_LOCK_WAIT.format(seconds=0.5)),
        )
        assert_one_line_failure(result, "contoso.db", "locked by another process")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert summary_counts(ok(run("ingest", str(more), "--db", str(db), cwd=tmp_path)).stderr)["accepted"] == 5


def test_a_full_disk_is_named_as_the_cause_and_loses_nothing(tmp_path: Path) -> None:
    """The database may not grow (`PRAGMA max_page_count` in every connection of the process: SQLite then fails
    writes with SQLITE_FULL, as on a full disk). SQLite rolls the transaction back itself, so the ROLLBACK after it
    fails too: the message must name the full disk, not "cannot rollback"."""
    more = write_jsonl(tmp_path / "more.jsonl", many_events(300))
    reference = ingested(tmp_path, "reference.db")
    ok(run("ingest", str(more), "--db", str(reference), cwd=tmp_path))
    for batch_size in ("100000", "50"):  # one batch, written by the deciding process; many, by the writer process
        db = ingested(tmp_path, f"full-{batch_size}.db")
        pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
        full = env_with(tmp_path, SMALL_DISK.format(pages=pages))
        result = run("ingest", str(more), "--db", str(db), "--batch-size", batch_size, cwd=tmp_path, env=full)
        assert_one_line_failure(result, "disk is full", "full-")
        assert "rollback" not in result.stderr
        ok(run("ingest", str(more), "--db", str(db), cwd=tmp_path))  # space again: the ingest goes on
        assert export(db, "contoso", tmp_path) == export(reference, "contoso", tmp_path)


def test_a_truncated_database_is_named_so_with_what_to_do(tmp_path: Path) -> None:
    db = ingested(tmp_path)
    with open(db, "r+b") as file:
        file.truncate(db.stat().st_size // 2)
    result = run("export", "--tenant", "contoso", "--db", str(db), cwd=tmp_path)
    assert_one_line_failure(result, "contoso.db is truncated", "licensing verify --db", "licensing replay --db")


def test_a_database_damaged_inside_is_named_so_with_what_to_do(tmp_path: Path) -> None:
    db = ingested(tmp_path)
    page = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    with open(db, "r+b") as file:
        file.seek(page)  # every page but the first (the header and the schema)
        file.write(b"\xa5" * (db.stat().st_size - page))
    result = run("replay", "--db", str(db), cwd=tmp_path)
    assert_one_line_failure(result, "contoso.db is damaged", "licensing verify --db", "licensing replay --db")


# ---- inputs -----------------------------------------------------------------------------------------------------


def test_standard_input_named_twice_or_closed_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert_one_line_failure(run("ingest", "-", "-", "--db", str(db), cwd=tmp_path), "standard input", "once")
    closed = run("ingest", "-", "--db", str(db), cwd=tmp_path, preexec_fn=lambda: os.close(0))
    assert_one_line_failure(closed, "standard input is closed")
    assert not db.exists()


def test_standard_input_is_read(tmp_path: Path) -> None:
    lines = "".join(json.dumps(e) + "\n" for e in tenant_events())
    result = run("ingest", "-", "--db", str(tmp_path / "x.db"), cwd=tmp_path, input=lines)
    assert summary_counts(ok(result).stderr)["accepted"] == len(tenant_events())


def test_a_byte_order_mark_before_the_first_line_is_dropped(tmp_path: Path) -> None:
    events = tenant_events()
    first = tmp_path / "first.jsonl"
    second = tmp_path / "second.jsonl"
    first.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(e) + "\r\n" for e in events[:5]).encode())
    second.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(e) + "\n" for e in events[5:]).encode())
    db = tmp_path / "bom.db"
    counts = summary_counts(ok(run("ingest", str(first), str(second), "--db", str(db), cwd=tmp_path)).stderr)
    assert counts == {"accepted": len(events), "duplicates": 0, "stale": 0, "dead-lettered": 0}
    assert export(db, "contoso", tmp_path) == export(ingested(tmp_path, "plain.db"), "contoso", tmp_path)


def test_dev_null_a_fifo_and_a_process_substitution_are_read(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "c.jsonl", tenant_events())
    db = tmp_path / "x.db"
    assert summary_counts(ok(run("ingest", os.devnull, "--db", str(db), cwd=tmp_path)).stderr)["accepted"] == 0

    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(source.read_bytes()))
    writer.start()
    result = run("ingest", str(fifo), "--db", str(db), cwd=tmp_path)
    writer.join()
    assert summary_counts(ok(result).stderr)["accepted"] == len(tenant_events())

    substituted = subprocess.run(
        ["bash", "-c", f'"{LICENSING}" ingest <(cat "{source}") --db "{tmp_path / "y.db"}"'],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )
    assert summary_counts(ok(substituted).stderr)["accepted"] == len(tenant_events())


# ---- what the store or the program itself raises ----------------------------------------------------------------


def test_a_store_error_is_its_own_one_line_message(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "c.jsonl", tenant_events())
    shim = RAISING.format(
        imports="from processor.embedded.errors import StoreError",
        error='StoreError("another ingest is running on this database")',
    )
    result = run("ingest", str(source), "--db", str(tmp_path / "x.db"), cwd=tmp_path, env=env_with(tmp_path, shim))
    assert_one_line_failure(result)
    assert result.stderr == "licensing: another ingest is running on this database\n"


def test_an_unexpected_error_is_one_line_and_its_traceback_is_there_for_debugging(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "c.jsonl", tenant_events())
    env = env_with(tmp_path, RAISING.format(imports="", error='KeyError("boom")'))
    result = run("ingest", str(source), "--db", str(tmp_path / "x.db"), cwd=tmp_path, env=env)
    assert_one_line_failure(result, "unexpected KeyError: 'boom'", "LICENSING_DEBUG=1")
    debugging = run(
        "ingest", str(source), "--db", str(tmp_path / "x.db"), cwd=tmp_path, env={**env, "LICENSING_DEBUG": "1"}
    )
    assert debugging.returncode != 0
    assert "Traceback" in debugging.stderr and "KeyError: 'boom'" in debugging.stderr


# ---- --as-of ----------------------------------------------------------------------------------------------------


def test_a_bad_as_of_says_which_format_is_expected(tmp_path: Path) -> None:
    db = ingested(tmp_path)
    for bad in ("yesterday", "2026-01-05", "2026-01-05 10:30:00Z", "2026-13-45T25:61:61Z"):
        result = run("export", "--tenant", "contoso", "--db", str(db), "--as-of", bad, cwd=tmp_path)
        assert_one_line_failure(result, "--as-of", bad)
        assert "RFC 3339" in result.stderr or "not a valid time" in result.stderr
        assert "^" not in result.stderr and "\\d" not in result.stderr  # no regular expression
    assert_one_line_failure(
        run("export", "--tenant", "contoso", "--db", str(db), "--as-of", "noon", cwd=tmp_path),
        "e.g. 2026-03-01T00:00:00Z",
    )
    upper = export(db, "contoso", tmp_path, "--as-of", "2026-01-05T10:30:00Z")
    assert export(db, "contoso", tmp_path, "--as-of", "2026-01-05t10:30:00z") == upper
    assert export(db, "contoso", tmp_path, "--as-of", "2026-01-05T11:30:00+01:00") == upper
