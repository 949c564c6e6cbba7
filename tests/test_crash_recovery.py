"""A crash at any point of an embedded ingest, then the same ingest again, gives the state of an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processor.demo_tenant import generate_demo_events, write_jsonl

LICENSING = str(Path(sys.executable).parent / "licensing")


def licensing(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LICENSING, *args], capture_output=True, text=True, timeout=300, check=True)


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("crash")
    path = folder / "demo.jsonl"
    write_jsonl(generate_demo_events(users=1500), path)
    reference = folder / "reference.db"
    licensing("ingest", str(path), "--db", str(reference))
    return path, licensing("export", "--tenant", "contoso", "--db", str(reference)).stdout


@pytest.mark.parametrize("fraction", [0.15, 0.4, 0.7])
def test_kill_9_mid_ingest_then_ingest_again_equals_no_crash(
    stream: tuple[Path, str], tmp_path: Path, fraction: float
) -> None:
    path, expected = stream
    db = tmp_path / "crashed.db"
    started = time.monotonic()
    licensing("ingest", str(path), "--db", str(tmp_path / "timing.db"))
    full = time.monotonic() - started
    victim = subprocess.Popen([LICENSING, "ingest", str(path), "--db", str(db)], start_new_session=True)
    time.sleep(full * fraction)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    logged = _count(db, "events")
    assert logged < sum(1 for _ in open(path)), "the kill came too late to interrupt the ingest"
    # the log holds whole batches only: every logged event has its decisions and read-model rows
    summary = licensing("ingest", str(path), "--db", str(db)).stderr
    assert f"duplicates {logged}," in summary
    assert licensing("export", "--tenant", "contoso", "--db", str(db)).stdout == expected


def _count(db: Path, table: str) -> int:
    import sqlite3

    if not db.exists():
        return 0
    try:
        return int(sqlite3.connect(db).execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # killed before the schema was committed
