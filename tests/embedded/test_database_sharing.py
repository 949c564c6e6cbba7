"""Several processes opening one new database at the same moment, as `licensing project` and `licensing wait` do
when a deployment starts: each must find the schema in place, none may fail with "database is locked"."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import traceback
from pathlib import Path

from processor.embedded.database import SCHEMA_VERSION, open_database
from processor.kafka.projector import projected_positions
from projections.store import ProjectionStore

PROCESSES = 4
ROUNDS = 8


def _open_together(
    path: str, projector: bool, start: multiprocessing.synchronize.Barrier, errors: multiprocessing.Queue[str]
) -> None:
    start.wait()
    try:
        conn = open_database(path)
        if projector:
            ProjectionStore(conn)  # creates the read models' tables
        else:
            for _ in range(20):  # `licensing wait` polls the positions, maybe before the projector created them
                assert all(position >= -1 for position in projected_positions(conn).values())
        conn.close()
    except BaseException:
        errors.put(traceback.format_exc())


def test_processes_opening_a_new_database_together_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")  # no re-import per process: they start within microseconds
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"shared-{round_}.db")
        start = context.Barrier(PROCESSES)
        errors: multiprocessing.Queue[str] = context.Queue()
        processes = [
            context.Process(target=_open_together, args=(path, n % 2 == 0, start, errors)) for n in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        failures = [errors.get() for _ in range(errors.qsize())]
        assert failures == [], f"round {round_}:\n" + "\n".join(failures)
        assert [process.exitcode for process in processes] == [0] * PROCESSES

        conn = open_database(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"log_blocks", "event_ids", "decision_blocks", "dead_letters", "projection_positions"} <= tables
        conn.close()
