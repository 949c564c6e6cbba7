"""`many_tenants`: one embedded ingest of K new small tenants into a log of N events, for a couple of N.

Loading a tenant reads the log blocks holding its events (block_tenants), and a tenant new to the log has none:
the ingest should take as long whatever N is. `growth` = seconds at the largest N ÷ seconds at the smallest
(1.0: flat; reading the whole log per new tenant, it grew with N).

The log of each N is one tenant of the `ingest` benchmark's mix, built once (untimed) and kept under bench/out;
every timed ingest runs in a fresh process into a fresh copy of it, `--repeat` times, and the median is reported
with every run listed.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from bench.common import OUT, fresh_db, in_own_process, report, workload_file
from bench.workload import Workload
from processor.embedded.database import close_database, open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.terminal import input_lines


def built_log(events: int) -> Path:
    """A database holding a log of `events` events of one tenant (10 events per user), built once."""
    db = OUT / f"many-tenants-{events}.db"
    if not db.exists():
        path = workload_file(max(events // 10, 10), max(events // 500, 5), events)
        building = fresh_db(f"many-tenants-{events}.building.db")
        runtime = EmbeddedRuntime(open_database(building))
        runtime.ingest(input_lines((str(path),)))
        close_database(runtime.conn)
        building.rename(db)
        fresh_db(building.name)  # its emptied -wal and -shm
    return db


def new_tenant_lines(tenants: int, events: int) -> list[tuple[str, bytes]]:
    return [
        (f"new-{n}", line.encode())
        for n in range(tenants)
        for line in Workload(10, 3, events, seed=n, tenant=f"new-{n}").lines()
    ]


def ingest_seconds(db: Path, lines: list[tuple[str, bytes]]) -> float:
    runtime = EmbeddedRuntime(open_database(db))
    started = time.perf_counter()
    summary = runtime.ingest(lines)
    seconds = time.perf_counter() - started
    assert summary.accepted + summary.stale == len(lines), summary.line()
    close_database(runtime.conn)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50000,200000", help="events in the log, comma-separated")
    parser.add_argument("--tenants", type=int, default=20, help="new tenants ingested")
    parser.add_argument("--events-per-tenant", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    lines = new_tenant_lines(args.tenants, args.events_per_tenant)
    figures: dict[str, object] = {"tenants": args.tenants, "events_per_tenant": args.events_per_tenant}
    medians = []
    for size in sizes:
        log = built_log(size)
        runs = []
        for _ in range(args.repeat):
            copy = fresh_db("many-tenants-run.db")
            shutil.copyfile(log, copy)
            runs.append(in_own_process(ingest_seconds, copy, lines))
        median = sorted(runs)[len(runs) // 2]
        medians.append(median)
        figures[f"seconds_{size}"] = round(median, 3)
        figures[f"runs_{size}"] = [round(run, 3) for run in runs]
    figures["growth"] = round(medians[-1] / medians[0], 2)
    report("many_tenants", figures)


if __name__ == "__main__":
    main()
