"""`kafka`: one Faust worker plus the projector over the dev broker, 200,000 events.

`events_per_s` runs from the first publish to everything projected (`licensing wait`); `bare_ratio` divides it by
the rate of a bare aiokafka consumer reading the same topic in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import OUT, fresh_db, report, workload_file
from processor.embedded.database import open_database
from processor.kafka import EVENTS_TOPIC
from processor.kafka.admin import create_topics
from processor.kafka.broker import free_port, start_broker
from processor.kafka.progress import wait_until_projected
from processor.kafka.publish import publish_lines

LICENSING = str(Path(sys.executable).parent / "licensing")


async def bare_consumer_rate(bootstrap: str, total: int, partitions: int) -> float:
    """Read all `total` published events back (counted, not asked for: Tansu misreports end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(EVENTS_TOPIC, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        started = time.perf_counter()
        count = 0
        while count < total:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            count += sum(len(messages) for messages in batches.values())
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    path = workload_file(20_000, 400, args.events)
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    broker = start_broker(port, OUT / "kafka-broker.log")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(create_topics(bootstrap, args.partitions))
        db = fresh_db("kafka-projected.db")
        for command in (
            ["worker", "--datadir", str(OUT / "kafka-worker")],
            ["project", "--db", str(db)],
        ):
            log = open(OUT / f"kafka-{command[0]}.log", "wb")
            processes.append(
                subprocess.Popen(
                    [LICENSING, *command, "--bootstrap-server", bootstrap],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        time.sleep(8)  # let the worker join its group before the clock starts (Tansu joins take ~3 s)
        with open(path, "rb") as f:
            lines = [line.rstrip(b"\n") for line in f]
        started = time.perf_counter()
        asyncio.run(publish_lines(bootstrap, lines))
        done = asyncio.run(wait_until_projected(bootstrap, open_database(db), timeout=1800, poll=0.5))
        seconds = time.perf_counter() - started
        if not done:
            sys.exit("kafka benchmark: not everything was projected in time")
        rate = len(lines) / seconds
        bare = asyncio.run(bare_consumer_rate(bootstrap, len(lines), args.partitions))
        report(
            "kafka",
            {
                "events": len(lines),
                "partitions": args.partitions,
                "seconds": round(seconds, 2),
                "events_per_s": round(rate),
                "bare_consumer_events_per_s": round(bare),
                "bare_ratio": round(rate / bare, 3),
            },
        )
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        broker.terminate()
        broker.wait()


if __name__ == "__main__":
    main()
