"""`scale`: events/s of the same event mix for tenants of 10,000, 100,000 and 1,000,000 users.

Each tenant is first loaded (its users created, not timed), then the same 100,000-event mix is ingested and timed.
The timed part starts from an empty WAL and ends by checkpointing it: every size pays for writing its own pages into
the database file and none for the load's (without this, whether the load's 100+ MB of WAL was copied inside the
2-second timed window depended on where the automatic checkpoint happened to fall).

Each size runs in a process of its own, so no size inherits the heap, the frozen objects or the open database of
another (in one process, the 1,000,000-user rate measured 8-15 % lower when it came after the two smaller sizes).
A timed mix lasts 2-3 s, and single runs on the project VM spread by up to ±10 %: each size is measured `--repeat`
times (rounds over all sizes, so drift of the machine falls on every size alike) and its median rate is reported;
`flatness` = rate at the largest tenant / rate at the smallest (1.0 = per-event cost independent of tenant size).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.common import OUT, fresh_db, in_own_process, report
from bench.workload import Workload
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime


def _users_file(users: int) -> Path:
    path = OUT / f"users-{users}.jsonl"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        with open(path, "w") as out:
            for u in range(users):
                event = {
                    "specversion": "1.0",
                    "id": f"load-{u}",
                    "source": "/bench",
                    "type": "UserCreated",
                    "time": "2026-01-01T00:00:00Z",
                    "tenant": "bench",
                    "data": {"userId": f"u{u}", "usageLocation": "US", "proxyAddresses": [f"SMTP:u{u}@bench.com"]},
                }
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
    return path


def _mix_file(users: int, events: int) -> Path:
    """The mix without user creation (users exist): memberships, profile changes, direct licences, reprocess."""
    path = OUT / f"mix-{users}-{events}.jsonl"
    if not path.exists():
        workload = Workload(users, 2_000, events, seed=3)
        with open(path, "w") as out:
            for line in workload.lines():
                if '"type":"UserCreated"' not in line:
                    out.write(line + "\n")
    return path


def rate_at(users: int, events: int) -> float:
    runtime = EmbeddedRuntime(open_database(fresh_db(f"scale-{users}.db")))
    with open(_users_file(users), "rb") as f:
        runtime.ingest(("load", line.rstrip(b"\n")) for line in f)
    with open(_mix_file(users, events), "rb") as f:
        lines = [("mix", line.rstrip(b"\n")) for line in f]
    runtime.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the load's pages into the database file, untimed
    started = time.perf_counter()
    summary = runtime.ingest(lines)
    runtime.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and the mix's own, timed
    return summary.accepted / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(args.repeat):
        for size in sizes:
            runs[size].append(in_own_process(rate_at, size, args.events))
    rates = {size: statistics.median(rates) for size, rates in runs.items()}
    figures: dict[str, object] = {f"events_per_s_{size}": round(rate) for size, rate in rates.items()}
    figures["flatness"] = round(rates[sizes[-1]] / rates[sizes[0]], 3)
    figures.update({f"runs_{size}": [round(rate) for rate in rates] for size, rates in runs.items()})
    report("scale", figures)


if __name__ == "__main__":
    main()
