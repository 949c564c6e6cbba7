"""`licensing wait` and the offset queries it is built on, against what is really in the topics. `licensing wait`
therefore observes end offsets by reading (processor/kafka/progress.py); these tests pin that.)

Tansu 0.6.0 answers ListOffsets(latest) with the base offset of the partition's last record batch + 1: when that
batch holds several records (any pipelined producer: `licensing publish`, the workers' Faust producer), the end
offset misses the rest of the batch, although the records are stored and fetched normally.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from processor.kafka import EVENTS_TOPIC, WORKER_GROUP
from processor.kafka.progress import TopicFollower
from tests.kafka.conftest import Cluster, last_offsets, partition_of


def quickstart(tenant: str, n: int) -> list[bytes]:
    lines = [
        {"type": "TenantConfigured", "data": {"countryLetterCode": "US"}},
        {"type": "SubscriptionChanged", "data": {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": n}}},
    ] + [{"type": "UserCreated", "data": {"userId": f"u{i}", "usageLocation": "US"}} for i in range(n)]
    return [
        json.dumps(
            {
                "specversion": "1.0",
                "id": f"e{i}",
                "source": "/test",
                "time": f"2026-01-05T10:00:{i:02d}Z",
                "tenant": tenant,
                **line,
            }
        ).encode()
        for i, line in enumerate(lines)
    ]


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_observed_end_offsets_count_every_published_event(kafka: Cluster) -> None:
    path = write_lines(kafka.tmp / "events.jsonl", quickstart("contoso", 20))
    kafka.publish(path)
    stored = last_offsets(kafka.read_topic(EVENTS_TOPIC))
    assert stored == {partition_of(b"contoso"): 21}  # 22 events, offsets 0..21

    async def observed_ends() -> dict[int, int]:
        follower = TopicFollower(kafka.bootstrap, EVENTS_TOPIC)
        await follower.start()
        try:
            return await follower.catch_up()
        finally:
            await follower.stop()

    assert asyncio.run(observed_ends())[partition_of(b"contoso")] == 22


def test_wait_does_not_succeed_while_published_events_are_undecided(kafka: Cluster) -> None:
    """The worker group has decided (committed) the first event of 22; `licensing wait` must not exit 0."""
    path = write_lines(kafka.tmp / "events.jsonl", quickstart("contoso", 20))
    kafka.publish(path)
    partition = partition_of(b"contoso")
    assert last_offsets(kafka.read_topic(EVENTS_TOPIC)) == {partition: 21}

    async def commit_first_event() -> None:  # what a worker that has decided offset 0 only would have committed
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=WORKER_GROUP, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(EVENTS_TOPIC, partition)
            consumer.assign([tp])
            await consumer.commit({tp: OffsetAndMetadata(1, "")})
        finally:
            await consumer.stop()

    asyncio.run(asyncio.wait_for(commit_first_event(), timeout=30))
    db = kafka.tmp / "kafka.db"
    kafka.start_projector(db)  # nothing to project yet: no decision was published
    kafka.wait_for_table(db, "projection_positions")
    result = kafka.cli("wait", "--bootstrap-server", kafka.bootstrap, "--db", str(db), "--timeout", "3", check=False)
    assert result.returncode != 0, "licensing wait exited 0 with 21 of 22 published events undecided"


class SlowFetches:
    """A consumer whose fetches of a partition holding 3 records come back empty twice before each record (a busy
    broker: a fetch slower than the poll), high watermark known from the start."""

    def __init__(self) -> None:
        self.tp = TopicPartition(EVENTS_TOPIC, 0)
        self.next = 0
        self.polls = 0

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    def highwater(self, tp: TopicPartition) -> int:
        return 3

    async def position(self, tp: TopicPartition) -> int:
        return self.next

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        self.polls += 1
        if self.polls % 3 or self.next >= 3:
            return {}
        record = SimpleNamespace(offset=self.next)
        self.next += 1
        return {self.tp: [record]}


def test_a_follower_reads_on_through_empty_polls_until_the_high_watermark() -> None:
    follower = TopicFollower("unused:9092", EVENTS_TOPIC)
    follower._consumer = SlowFetches()  # type: ignore[assignment]
    follower.ends = {0: 0}
    assert asyncio.run(follower.catch_up()) == {0: 3}
