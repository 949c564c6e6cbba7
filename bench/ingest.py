"""`ingest`: embedded `licensing ingest` of a 1,000,000-event file, one tenant of 100,000 users and 2,000 groups.

End to end: log append, decisions, read models committed. Also the floor (read + JSON-parse the same file).
The ingest runs in a fresh process, as a `licensing ingest` call does: not in the one that has just generated the
workload (~1 GB of short-lived objects on a fresh clone) and measured the floor.

Both ways, `--repeat` times each, alternating: as it runs by default on this machine (its second CPU runs the writer
process), and held to one CPU (then the ingest writes its batches itself). Single runs on the project VM spread by
±15 % (its neighbours), so the figures are the medians, with every run listed. `cpu_seconds` is the CPU time of the
median default run, writer process included.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, TypeVar

from bench.common import can_pin, cpu_seconds, floor_rate, fresh_db, in_own_process, report, workload_file
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.terminal import input_lines


def ingest_file(db: Path, path: Path) -> tuple[int, float, float]:
    """Events accepted, seconds and CPU seconds taken by an embedded ingest of the file into a new database."""
    runtime = EmbeddedRuntime(open_database(db))
    started, cpu = time.perf_counter(), cpu_seconds()
    summary = runtime.ingest(input_lines((str(path),)))
    return summary.accepted, time.perf_counter() - started, cpu_seconds() - cpu


Run = TypeVar("Run", bound=tuple[Any, ...])  # (events, seconds, …)


def median_run(runs: list[Run]) -> Run:
    """The run of median seconds (the upper one of an even count: the slower, not an average of two)."""
    return sorted(runs, key=lambda run: run[1])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = workload_file(args.users, args.groups, args.events)
    floor = floor_rate(path)
    runs: list[tuple[int, float, float]] = []
    one_cpu_runs: list[tuple[int, float, float]] = []
    for _ in range(args.repeat):
        if can_pin():  # first, so that the database the replay benchmark reuses is a default run's
            one_cpu_runs.append(in_own_process(ingest_file, fresh_db("ingest.db"), path, one_cpu=True))
        runs.append(in_own_process(ingest_file, fresh_db("ingest.db"), path))
    accepted, seconds, cpu = median_run(runs)
    rate = accepted / seconds
    one_cpu: dict[str, object] = {}
    if one_cpu_runs:
        accepted_one, seconds_one, _ = median_run(one_cpu_runs)
        one_cpu = {
            "one_cpu_seconds": round(seconds_one, 2),
            "one_cpu_events_per_s": round(accepted_one / seconds_one),
            "one_cpu_runs": [round(run[1], 2) for run in one_cpu_runs],
        }
    report(
        "ingest",
        {
            "events": accepted,
            "users": args.users,
            "groups": args.groups,
            "seconds": round(seconds, 2),
            "events_per_s": round(rate),
            "floor_events_per_s": round(floor),
            "floor_ratio": round(rate / floor, 3),
            "cpu_seconds": round(cpu, 2),
            "runs": [round(run[1], 2) for run in runs],
            **one_cpu,
        },
    )


if __name__ == "__main__":
    main()
