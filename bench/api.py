"""`api`: `licensing serve` over the demo tenant at 100,000 users (`licensing demo`'s generator, ~455,000 events).

In one run:
* the events are ingested by `licensing ingest`'s path (an embedded ingest of the file, in a fresh process) and,
  into another new database, posted to a running `licensing serve` as JSON Lines batches of `--batch` events, one
  after the other: `http_to_file_ratio` = the HTTP rate ÷ the file rate;
* on the database the server has just filled, the p50 and p99 latency of `--requests` sequential requests (after
  a few unmeasured ones) of each Graph read: the groups with members in licence error, the first 999 members in
  error of the group with the most, one user's licence assignment states, a page of 999 users with theirs; and of
  the dashboard's group page when the server has one (DASHBOARD_GROUP_PAGE).

The demo's groups have at most a few dozen members in error, so before the reads the server is sent (untimed) a
group that assigns POWER_BI_PRO to `--overflow` users, beyond its seats: a 999-row page of members in error.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import OUT, fresh_db, in_own_process, report
from bench.ingest import ingest_file
from processor.demo.generator import generate_demo_events, write_jsonl

TENANT = "contoso"
DASHBOARD_GROUP_PAGE = "/tenants/{tenant}/groups/{group}"  # the dashboard's group page, once the server has one
WARM_UP = 10  # requests per read before the measured ones
LICENSING = Path(sys.executable).parent / "licensing"


def demo_file(users: int, seed: int) -> Path:
    """The demo tenant's events as JSON Lines, generated once and cached under bench/out (not timed)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"demo-u{users}-s{seed}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        write_jsonl(generate_demo_events(seed=seed, users=users), tmp)
        tmp.rename(path)
        os.sync()
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(LICENSING), "serve", "--db", str(db), "--port", str(port)],
        env={k: v for k, v in os.environ.items() if k not in ("LICENSING_DB", "LICENSING_TOKEN")},
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"licensing serve exited {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("licensing serve did not listen within 300 s")


def post_batches(client: httpx.Client, path: Path, batch: int) -> tuple[int, float]:
    """Events accepted and seconds taken to post the file's lines in batches, one after the other."""
    lines = path.read_bytes().splitlines()
    bodies = [b"\n".join(lines[start : start + batch]) for start in range(0, len(lines), batch)]
    accepted = 0
    started = time.perf_counter()
    for body in bodies:
        answer = client.post("/events", content=body, headers={"content-type": "application/x-ndjson"})
        answer.raise_for_status()
        accepted += answer.json()["accepted"]
    return accepted, time.perf_counter() - started


def overflow_events(path: Path, members: int) -> bytes:
    """JSON Lines: a group assigning POWER_BI_PRO (a few hundred seats) to the first `members` users of the file."""
    users: list[str] = []
    with open(path, "rb") as f:
        for line in f:
            if b'"UserCreated"' in line:
                users.append(json.loads(line)["data"]["userId"])
                if len(users) == members:
                    break

    def event(n: int, event_type: str, data: dict[str, Any]) -> bytes:
        envelope = {"specversion": "1.0", "id": f"bench-overflow-{n}", "source": "/bench", "type": event_type}
        return json.dumps({**envelope, "time": "2026-03-02T00:00:00Z", "tenant": TENANT, "data": data}).encode()

    group = {"groupId": "bench-overflow", "displayName": "Bench overflow"}
    licence = {"groupId": "bench-overflow", "addLicenses": [{"skuId": "POWER_BI_PRO"}], "removeLicenses": []}
    lines = [event(0, "GroupCreated", group), event(1, "GroupLicensesChanged", licence)]
    for n, user in enumerate(users, 2):
        lines.append(event(n, "GroupMemberAdded", {"groupId": "bench-overflow", "memberId": user}))
    return b"\n".join(lines)


def latency_ms(client: httpx.Client, url: str, requests: int, headers: dict[str, str] | None = None) -> list[float]:
    """Milliseconds of each of `requests` sequential GETs of the url (status 200 checked), after WARM_UP more."""
    timings = []
    for n in range(WARM_UP + requests):
        started = time.perf_counter()
        answer = client.get(url, headers=headers)
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            sys.exit(f"GET {url}: {answer.status_code} {answer.text[:200]}")
        if n >= WARM_UP:
            timings.append(elapsed * 1000)
    return timings


def percentiles(timings: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {"p50_ms": round(statistics.median(timings), 2), "p99_ms": round(cuts[98], 2)}


def measure_reads(client: httpx.Client, requests: int, overflow: bytes) -> dict[str, Any]:
    graph = f"/tenants/{TENANT}/v1.0"
    client.post("/events", content=overflow, headers={"content-type": "application/x-ndjson"}).raise_for_status()
    eventual = {"ConsistencyLevel": "eventual"}
    groups = client.get(f"{graph}/groups?$filter=hasMembersWithLicenseErrors eq true&$select=id").json()["value"]
    sizes = {
        g["id"]: client.get(
            f"{graph}/groups/{g['id']}/membersWithLicenseErrors?$count=true&$top=1", headers=eventual
        ).json()["@odata.count"]
        for g in groups
    }
    group = max(sorted(sizes), key=lambda g: sizes[g])
    first = client.get(f"{graph}/groups/{group}/membersWithLicenseErrors?$top=1").json()["value"][0]["id"]
    reads = {
        "groups_with_errors": f"{graph}/groups?$filter=hasMembersWithLicenseErrors eq true",
        "members_with_errors_999": f"{graph}/groups/{group}/membersWithLicenseErrors?$top=999",
        "user_license_states": f"{graph}/users/{first}?$select=licenseAssignmentStates",
        "users_999_license_states": f"{graph}/users?$top=999&$select=id,licenseAssignmentStates",
    }
    dashboard = DASHBOARD_GROUP_PAGE.format(tenant=TENANT, group=group)
    if client.get(dashboard).status_code == 200:
        reads["dashboard_group_page"] = dashboard
    figures: dict[str, Any] = {"groups_with_errors_count": len(groups), "members_with_errors_rows": sizes[group]}
    for name, url in reads.items():
        for key, value in percentiles(latency_ms(client, url, requests)).items():
            figures[f"{name}_{key}"] = value
    if "dashboard_group_page" not in reads:
        figures["dashboard_group_page"] = "not served"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=10_000, help="Events per POST /events.")
    parser.add_argument("--requests", type=int, default=300, help="Measured requests per read.")
    parser.add_argument("--overflow", type=int, default=2_000, help="Members of the group beyond its seats.")
    args = parser.parse_args()
    path = demo_file(args.users, args.seed)

    file_accepted, file_seconds, _ = in_own_process(ingest_file, fresh_db("api-file.db"), path)
    server, url = start_server(fresh_db("api-http.db"))
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            http_accepted, http_seconds = post_batches(client, path, args.batch)
            reads = measure_reads(client, args.requests, overflow_events(path, args.overflow))
    finally:
        server.terminate()
        server.wait(timeout=60)
    if http_accepted != file_accepted:
        sys.exit(f"the server accepted {http_accepted} events, the file ingest {file_accepted}")
    file_rate, http_rate = file_accepted / file_seconds, http_accepted / http_seconds
    report(
        "api",
        {
            "users": args.users,
            "events": file_accepted,
            "batch": args.batch,
            "file_seconds": round(file_seconds, 2),
            "file_events_per_s": round(file_rate),
            "http_seconds": round(http_seconds, 2),
            "http_events_per_s": round(http_rate),
            "http_to_file_ratio": round(http_rate / file_rate, 3),
            "requests_per_read": args.requests,
            **reads,
        },
    )


if __name__ == "__main__":
    main()
