"""`kafka`: the Kafka pipeline over the dev broker against embedded ingest of the same events, in the same run.

* `embedded_ratio`: events/s of the pipeline (one worker + the projector, first publish -> everything projected,
  `licensing wait`'s test) / events/s of `licensing ingest` of the same file (in a fresh process, as `ingest`).
* CPU seconds per event of the worker, of the projector and of the broker over that run (their /proc counters).
* `projector_events_per_s`: a second projector on a fresh database, alone, over the whole decisions topic (from
  its first transaction to its last), in input events per second; and in decisions per second.
* `recovery_growth`: the worker `kill -9`ed with 1x the history and restarted, then again with 6x (the same
  tenant, churned: memberships added and removed again, so that it keeps its size): the worker's own recovery time
  (snapshot load + the tail it read, its /metrics gauges), median of `--restarts` kills each; 6x / 1x.
  `restart_seconds` runs from the restart to the first event after it decided (process start and group join).
  `rebuild_without_snapshot_seconds`: the 6x partition rebuilt from offset 0 (its snapshot file removed), for scale.
* `rss_growth`: the worker's RSS once it has decided the 6x history (since its last restart: 5x) / once it has
  decided the 1x history (flat = its memory does not grow with history). The process measured at 6x is the one
  restarted by the last 1x kill: `rss_series_bytes` samples it after each further 1x it decides, and
  `rss_long_run_growth` is the last / the first of them (one process over a long run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import OUT, fresh_db, in_own_process, report, workload_file
from bench.ingest import ingest_file
from processor.embedded.database import open_database
from processor.kafka import DECISIONS_TOPIC, EVENTS_TOPIC
from processor.kafka.admin import create_topics
from processor.kafka.broker import free_port, start_broker
from processor.kafka.progress import TopicFollower, wait_until_projected
from processor.kafka.projector import Projector, projected_positions
from processor.kafka.publish import publish_lines

LICENSING = str(Path(sys.executable).parent / "licensing")
USERS, GROUPS, TENANT = 20_000, 400, "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds_of(pid: int) -> float:
    """utime + stime of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def scrape(port: int) -> dict[str, float]:
    """The licensing_* samples of a /metrics page, keyed by name and labels as printed."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        text = page.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("licensing_"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def is_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as page:
            return bool(page.status == 200)
    except OSError:
        return False


def churn_lines(count: int, seed: int, first_id: int) -> Iterator[bytes]:
    """Events that leave the tenant's size as it is: a membership added and removed again, a location flipped to
    another and back, a reprocess request; ids after the workload's."""
    rng = random.Random(seed)
    n = first_id
    while n < first_id + count:
        user = f"u{rng.randrange(USERS)}"
        group = f"g{rng.randrange(0, GROUPS, 5)}"  # licensed groups: every pair of events changes entries
        pairs = [
            ("GroupMemberAdded", {"groupId": group, "memberId": user}),
            ("GroupMemberRemoved", {"groupId": group, "memberId": user}),
        ]
        if rng.random() < 0.1:
            pairs = [("LicenseReprocessRequested", {"userId": user})]
        for event_type, data in pairs:
            n += 1
            yield json.dumps(
                {
                    "specversion": "1.0",
                    "id": f"{TENANT}-churn-{n}",
                    "source": "/bench",
                    "type": event_type,
                    "time": f"2026-06-01T00:00:00.{n % 1000:03d}Z",
                    "tenant": TENANT,
                    "data": data,
                },
                separators=(",", ":"),
            ).encode()


class Pipeline:
    """Broker, one worker and one projector as processes, with their /metrics ports."""

    def __init__(self, partitions: int) -> None:
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.broker = start_broker(self.port, OUT / "kafka-broker.log")
        self.partitions = partitions
        self.datadir = OUT / "kafka-worker"
        self.db = fresh_db("kafka-projected.db")
        self.worker: subprocess.Popen[bytes] | None = None
        self.projector: subprocess.Popen[bytes] | None = None
        self.worker_metrics, self.projector_metrics = free_port(), free_port()
        asyncio.run(create_topics(self.bootstrap, partitions))
        for stale in self.datadir.glob("snapshots/*"):
            stale.unlink()

    def _spawn(self, name: str, *args: str, metrics: int) -> subprocess.Popen[bytes]:
        log = open(OUT / f"kafka-{name}.log", "ab")
        return subprocess.Popen(
            [LICENSING, *args, "--bootstrap-server", self.bootstrap, "--metrics-address", f"127.0.0.1:{metrics}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", "worker", "--datadir", str(self.datadir), metrics=self.worker_metrics)

    def start_projector(self) -> None:
        self.projector = self._spawn("projector", "project", "--db", str(self.db), metrics=self.projector_metrics)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not (is_ready(self.worker_metrics) and (self.projector is None or is_ready(self.projector_metrics))):
            if time.monotonic() > deadline:
                sys.exit("kafka benchmark: worker or projector not ready")
            time.sleep(0.05)

    def stop_projector(self) -> None:
        assert self.projector is not None
        os.killpg(self.projector.pid, signal.SIGTERM)
        self.projector.wait(30)
        self.projector = None

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def publish(self, lines: list[bytes]) -> None:
        asyncio.run(publish_lines(self.bootstrap, lines))

    def wait_projected(self, db: Path | None = None) -> None:
        conn = open_database(db or self.db)
        if not asyncio.run(wait_until_projected(self.bootstrap, conn, timeout=1800, poll=0.05)):
            sys.exit("kafka benchmark: not everything was projected in time")

    def wait_snapshot(self, offset: int, timeout: float = 120) -> None:
        """Until the worker reports a snapshot of the tenant's partition covering `offset` (an idle snapshot)."""
        deadline = time.monotonic() + timeout
        while max(v for k, v in scrape(self.worker_metrics).items() if "snapshot_offset" in k) < offset:
            if time.monotonic() > deadline:
                sys.exit(f"kafka benchmark: no snapshot at {offset} after {timeout:g} s")
            time.sleep(0.1)

    def close(self) -> None:
        for process in (self.worker, self.projector):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        self.broker.terminate()
        self.broker.wait()


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    async def read() -> dict[int, int]:
        follower = TopicFollower(bootstrap, topic)
        await follower.start()
        try:
            return await follower.catch_up()
        finally:
            await follower.stop()

    return asyncio.run(read())


def projector_alone(bootstrap: str) -> tuple[int, float]:
    """A projector on a fresh database over the whole decisions topic: (decisions, seconds first to last commit)."""
    ends = {p: end for p, end in end_offsets(bootstrap, DECISIONS_TOPIC).items() if end}
    conn = open_database(fresh_db("kafka-projector-alone.db"))
    projector = Projector(conn, bootstrap)
    applied = projector.apply
    first: list[float] = []

    def timed_apply(batches: Any) -> None:
        if not first:
            first.append(time.perf_counter())
        applied(batches)

    projector.apply = timed_apply  # type: ignore[method-assign]

    async def run() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(projector.run(stop))
        while True:
            positions = projected_positions(conn)
            if all(positions.get(p, -1) >= end - 1 for p, end in ends.items()):
                finished = time.perf_counter()
                stop.set()
                await task
                return finished - first[0]
            await asyncio.sleep(0.01)

    seconds = asyncio.run(run())
    return sum(ends.values()), seconds


def recover(pipeline: Pipeline, probe_id: int, without_snapshot: bool = False) -> dict[str, float]:
    """kill -9 the worker (its snapshot covers everything so far), restart it, publish one event: the recovery."""
    partition_end = max(end_offsets(pipeline.bootstrap, EVENTS_TOPIC).values())
    pipeline.wait_snapshot(partition_end)
    pipeline.kill_worker()
    if without_snapshot:
        for path in pipeline.datadir.glob("snapshots/*.snapshot"):
            path.unlink()
    started = time.perf_counter()
    pipeline.start_worker()
    pipeline.wait_ready()
    probe = json.dumps(
        {
            "specversion": "1.0",
            "id": f"{TENANT}-probe-{probe_id}",
            "source": "/bench",
            "type": "LicenseReprocessRequested",
            "time": "2026-07-01T00:00:00Z",
            "tenant": TENANT,
            "data": {"userId": "u1"},
        }
    ).encode()
    pipeline.publish([probe])
    pipeline.wait_projected()
    restart = time.perf_counter() - started
    samples = scrape(pipeline.worker_metrics)
    seconds = max(v for k, v in samples.items() if k.startswith("licensing_worker_recovery_seconds"))
    tail = max(v for k, v in samples.items() if k.startswith("licensing_worker_recovery_tail_events"))
    return {"seconds": seconds, "tail": tail, "restart": restart}


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--history", type=int, default=6, help="the longer history, in multiples of --events")
    parser.add_argument("--restarts", type=int, default=3, help="kills per history length (median reported)")
    args = parser.parse_args()
    path = workload_file(USERS, GROUPS, args.events)
    with open(path, "rb") as f:
        lines = [line.rstrip(b"\n") for line in f]

    embedded_events, embedded_seconds, _ = in_own_process(ingest_file, fresh_db("kafka-embedded.db"), path)
    embedded_rate = embedded_events / embedded_seconds

    pipeline = Pipeline(args.partitions)
    try:
        pipeline.start_worker()
        pipeline.start_projector()
        pipeline.wait_ready()
        assert pipeline.worker is not None and pipeline.projector is not None
        pids = {"worker": pipeline.worker.pid, "projector": pipeline.projector.pid, "broker": pipeline.broker.pid}
        cpu_before = {name: cpu_seconds_of(pid) for name, pid in pids.items()}
        started = time.perf_counter()
        pipeline.publish(lines)
        pipeline.wait_projected()
        seconds = time.perf_counter() - started
        cpu = {name: cpu_seconds_of(pid) - cpu_before[name] for name, pid in pids.items()}
        rate = len(lines) / seconds
        decisions = int(scrape(pipeline.worker_metrics)["licensing_worker_decisions_published_total"])
        rss_short = rss_bytes_of(pipeline.worker.pid)

        pipeline.stop_projector()  # the projector alone must have every partition of the group to itself
        projected, projector_seconds = projector_alone(pipeline.bootstrap)
        pipeline.start_projector()  # back on its database, from its stored positions

        short = [recover(pipeline, n) for n in range(args.restarts)]
        churn = list(churn_lines((args.history - 1) * args.events, seed=2, first_id=args.events))
        rss_series = []  # the restarted worker's RSS after each further 1x of history: one process, a long run
        for chunk in range(0, len(churn), args.events):
            pipeline.publish(churn[chunk : chunk + args.events])
            pipeline.wait_projected()
            rss_series.append(rss_bytes_of(pipeline.worker.pid))  # type: ignore[union-attr]
        rss_long = rss_series[-1]
        long = [recover(pipeline, args.restarts + n) for n in range(args.restarts)]
        rebuild = recover(pipeline, 2 * args.restarts, without_snapshot=True)
        snapshot_bytes = max(v for k, v in scrape(pipeline.worker_metrics).items() if "snapshot_bytes" in k)
    finally:
        pipeline.close()
    one, six = medians(short), medians(long)
    report(
        "kafka",
        {
            "events": len(lines),
            "partitions": args.partitions,
            "seconds": round(seconds, 2),
            "events_per_s": round(rate),
            "embedded_seconds": round(embedded_seconds, 2),
            "embedded_events_per_s": round(embedded_rate),
            "embedded_ratio": round(rate / embedded_rate, 3),
            "decisions": decisions,
            "worker_cpu_us_per_event": round(cpu["worker"] / len(lines) * 1e6, 1),
            "projector_cpu_us_per_event": round(cpu["projector"] / len(lines) * 1e6, 1),
            "broker_cpu_us_per_event": round(cpu["broker"] / len(lines) * 1e6, 1),
            "projector_decisions_per_s": round(projected / projector_seconds),
            "projector_events_per_s": round(len(lines) / projector_seconds),
            "recovery_1x_seconds": round(one["seconds"], 3),
            "recovery_1x_tail": int(one["tail"]),
            f"recovery_{args.history}x_seconds": round(six["seconds"], 3),
            f"recovery_{args.history}x_tail": int(six["tail"]),
            "recovery_growth": round(six["seconds"] / one["seconds"], 3),
            "recovery_runs": [round(r["seconds"], 3) for r in short + long],
            "restart_seconds": round(statistics.median(r["restart"] for r in short + long), 2),
            "rebuild_without_snapshot_seconds": round(rebuild["seconds"], 2),
            "rebuild_without_snapshot_tail": int(rebuild["tail"]),
            "snapshot_bytes": int(snapshot_bytes),
            "rss_1x_bytes": rss_short,
            f"rss_{args.history}x_bytes": rss_long,
            "rss_growth": round(rss_long / rss_short, 3),
            "rss_series_bytes": rss_series,
            "rss_long_run_growth": round(rss_series[-1] / rss_series[0], 3),
        },
    )


if __name__ == "__main__":
    main()
