"""`replay`: `licensing replay` of the database the `ingest` benchmark left (run that first).

Both ways, `--repeat` times each, alternating, each run in a fresh process: as it runs by default on this machine
(its second CPU runs the writer process), and held to one CPU (then the replay writes its batches itself). The
figures are the medians, with every run listed (see bench/ingest.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.common import OUT, can_pin, in_own_process, report
from bench.ingest import median_run
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime


def replay_seconds(db: Path) -> tuple[int, float]:
    """Events replayed and seconds taken."""
    runtime = EmbeddedRuntime(open_database(db))
    started = time.perf_counter()
    count = runtime.replay()
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = OUT / "ingest.db"
    if not db.exists():
        sys.exit("run the ingest benchmark first: python -m bench.ingest")
    runs: list[tuple[int, float]] = []
    one_cpu_runs: list[tuple[int, float]] = []
    for _ in range(args.repeat):  # a replay rebuilds what it reads from: every run starts from the same log
        if can_pin():
            one_cpu_runs.append(in_own_process(replay_seconds, db, one_cpu=True))
        runs.append(in_own_process(replay_seconds, db))
    count, seconds = median_run(runs)
    figures: dict[str, object] = {"events": count, "seconds": round(seconds, 2), "events_per_s": round(count / seconds)}
    figures["runs"] = [round(run[1], 2) for run in runs]
    if one_cpu_runs:
        count_one, seconds_one = median_run(one_cpu_runs)
        figures["one_cpu_seconds"] = round(seconds_one, 2)
        figures["one_cpu_events_per_s"] = round(count_one / seconds_one)
        figures["one_cpu_runs"] = [round(run[1], 2) for run in one_cpu_runs]
    report("replay", figures)


if __name__ == "__main__":
    main()
