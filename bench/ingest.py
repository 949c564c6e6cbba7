"""`ingest`: embedded `licensing ingest` of a 1,000,000-event file, one tenant of 100,000 users and 2,000 groups.

End to end: log append, decisions, read models committed. Also the floor (read + JSON-parse the same file).
"""

from __future__ import annotations

import argparse
import time

from bench.common import floor_rate, fresh_db, report, workload_file
from processor.cli import _lines
from processor.embedded import EmbeddedRuntime, open_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=2_000)
    args = parser.parse_args()
    path = workload_file(args.users, args.groups, args.events)
    floor = floor_rate(path)
    db = fresh_db("ingest.db")
    runtime = EmbeddedRuntime(open_database(db))
    started = time.perf_counter()
    summary = runtime.ingest(_lines((str(path),)))
    seconds = time.perf_counter() - started
    rate = summary.accepted / seconds
    report(
        "ingest",
        {
            "events": summary.accepted,
            "users": args.users,
            "groups": args.groups,
            "seconds": round(seconds, 2),
            "events_per_s": round(rate),
            "floor_events_per_s": round(floor),
            "floor_ratio": round(rate / floor, 3),
        },
    )


if __name__ == "__main__":
    main()
