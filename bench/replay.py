"""`replay`: `licensing replay` of the database the `ingest` benchmark left (run that first).

Twice, each in a fresh process: as it runs by default on this machine (its second CPU runs the writer process),
and held to one CPU (then the replay writes its batches itself).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.common import OUT, can_pin, in_own_process, report
from processor.embedded import EmbeddedRuntime, open_database


def replay_seconds(db: Path) -> tuple[int, float]:
    """Events replayed and seconds taken."""
    runtime = EmbeddedRuntime(open_database(db))
    started = time.perf_counter()
    count = runtime.replay()
    return count, time.perf_counter() - started


def main() -> None:
    db = OUT / "ingest.db"
    if not db.exists():
        sys.exit("run the ingest benchmark first: python -m bench.ingest")
    one_cpu: dict[str, object] = {}
    if can_pin():
        count, seconds = in_own_process(replay_seconds, db, one_cpu=True)
        one_cpu = {"one_cpu_seconds": round(seconds, 2), "one_cpu_events_per_s": round(count / seconds)}
    count, seconds = in_own_process(replay_seconds, db)
    report("replay", {"events": count, "seconds": round(seconds, 2), "events_per_s": round(count / seconds), **one_cpu})


if __name__ == "__main__":
    main()
