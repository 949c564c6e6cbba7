"""`group_pass`: a licence assigned to a 100,000-member group, decided and projected (one event, timed).

A pass lasts ~3 s and single runs on the project VM spread by up to ±15 % (page faults on fresh memory, the VM's
neighbours): the pass is measured `--repeat` times, each in a process of its own on a fresh database, and the median
is reported with every run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.common import fresh_db, in_own_process, report
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime


def _line(n: int, event_type: str, data: dict[str, object]) -> tuple[str, bytes]:
    event = {
        "specversion": "1.0",
        "id": f"gp-{n}",
        "source": "/bench",
        "type": event_type,
        "time": f"2026-01-05T08:{n // 600000 % 60:02d}:{n // 10000 % 60:02d}.{n % 10000:04d}Z",
        "tenant": "bench",
        "data": data,
    }
    return f"line {n}", json.dumps(event).encode()


def pass_seconds(members: int) -> float:
    runtime = EmbeddedRuntime(open_database(fresh_db("group_pass.db")))
    setup = [
        _line(0, "TenantConfigured", {"countryLetterCode": "US"}),
        _line(1, "SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": members}}),
        _line(2, "GroupCreated", {"groupId": "all-staff"}),
    ]
    setup += [_line(10 + u, "UserCreated", {"userId": f"u{u}", "usageLocation": "US"}) for u in range(members)]
    setup += [
        _line(10 + members + u, "GroupMemberAdded", {"groupId": "all-staff", "memberId": f"u{u}"})
        for u in range(members)
    ]
    runtime.ingest(setup)
    licence = {"groupId": "all-staff", "addLicenses": [{"skuId": "ENTERPRISEPACK", "disabledPlans": []}]}
    started = time.perf_counter()
    summary = runtime.ingest([_line(9_000_000, "GroupLicensesChanged", licence)])
    seconds = time.perf_counter() - started
    active = runtime.conn.execute(
        "SELECT count(*) FROM license_assignments WHERE state = 'Active' AND source = 'all-staff'"
    ).fetchone()[0]
    assert summary.accepted == 1 and active == members, (summary, active)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [in_own_process(pass_seconds, args.members) for _ in range(args.repeat)]
    seconds = statistics.median(runs)
    figures = {"members": args.members, "seconds": round(seconds, 3), "users_per_s": round(args.members / seconds)}
    report("group_pass", {**figures, "runs": [round(run, 3) for run in runs]})


if __name__ == "__main__":
    main()
