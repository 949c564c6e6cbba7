"""`replay`: `licensing replay` of the database the `ingest` benchmark left (run that first)."""

from __future__ import annotations

import sys
import time

from bench.common import OUT, report
from processor.embedded import EmbeddedRuntime, open_database


def main() -> None:
    db = OUT / "ingest.db"
    if not db.exists():
        sys.exit("run the ingest benchmark first: python -m bench.ingest")
    runtime = EmbeddedRuntime(open_database(db))
    started = time.perf_counter()
    count = runtime.replay()
    seconds = time.perf_counter() - started
    report("replay", {"events": count, "seconds": round(seconds, 2), "events_per_s": round(count / seconds)})


if __name__ == "__main__":
    main()
