"""`graph_import`: `licensing import graph` of a 100,000-user snapshot into a fresh database, and `conformance` of it.

The snapshot is the demo tenant at that size, decided and written as Graph JSON (tests/graphsync/graph_json.py),
once, under bench/out (not timed). Each timed run imports it into a new database in a fresh process; the figures are
the medians, with every run listed. The aim is an import under a minute.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import orjson

from bench.common import OUT, fresh_db, in_own_process, report
from processor.demo.generator import generate_demo_events
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.graphsync.conformance import conformance_report
from processor.graphsync.importer import import_snapshot
from tests.graphsync.graph_json import write_graph_snapshot

TENANT = "contoso"


def snapshot_folder(users: int) -> Path:
    folder = OUT / f"graph-snapshot-u{users}"
    if not (folder / "groups.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        conn = open_database(fresh_db(f"graph-source-u{users}.db"))
        events = generate_demo_events(users=users)
        EmbeddedRuntime(conn).ingest((f"demo:{n}", orjson.dumps(e)) for n, e in enumerate(events))
        write_graph_snapshot(conn, TENANT, folder)
    return folder


def import_run(folder: Path, db: Path) -> tuple[int, float, float, int]:
    """(events appended, import seconds, conformance seconds, differences)."""
    conn = open_database(db)
    started = time.perf_counter()
    result = import_snapshot(conn, folder, TENANT)
    imported = time.perf_counter() - started
    started = time.perf_counter()
    differences = conformance_report(conn, TENANT, folder)["totals"]["differences"]
    return result.events, imported, time.perf_counter() - started, differences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = snapshot_folder(args.users)
    runs = [in_own_process(import_run, folder, fresh_db("graph-import.db")) for _ in range(args.repeat)]
    events, seconds, check_seconds, differences = sorted(runs, key=lambda run: run[1])[len(runs) // 2]
    report(
        "graph_import",
        {
            "users": args.users,
            "events": events,
            "seconds": round(seconds, 2),
            "events_per_s": round(events / seconds),
            "conformance_seconds": round(check_seconds, 2),
            "differences": differences,
            "runs": [round(run[1], 2) for run in runs],
        },
    )


if __name__ == "__main__":
    main()
