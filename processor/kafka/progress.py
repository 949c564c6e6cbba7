"""`licensing wait`: has everything published so far been decided and projected?

End offsets are observed by reading, not asked for: Tansu 0.6 answers ListOffsets(latest) with a count of record
batches rather than records (a partition holding one batch of 8 records reports 1), so a follower consumer reads
both topics to their current end and takes the last offset + 1 per partition. That works on any broker.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from processor.kafka import DECISIONS_TOPIC, EVENTS_TOPIC, WORKER_GROUP
from processor.kafka.admin import committed_offsets
from processor.kafka.projector import projected_positions


class TopicFollower:
    """Reads every partition of a topic from the beginning and remembers the next offset of each."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.ends: dict[int, int] = {}
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        partitions = consumer.partitions_for_topic(self.topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(self.topic) or set()
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if tps:
            await consumer.seek_to_beginning(*tps)
        self.ends = {p: 0 for p in partitions}
        self._consumer = consumer

    async def catch_up(self) -> dict[int, int]:
        """Read what is there now; returns the next offset per partition.

        A quiet poll only means "at the end" once every partition has answered a fetch (its high watermark is
        known): a consumer's first fetch can take longer than one poll.
        """
        consumer = self._consumer
        assert consumer is not None
        while True:
            batches = await consumer.getmany(timeout_ms=150, max_records=10_000)
            for tp, messages in batches.items():
                if messages:
                    self.ends[tp.partition] = messages[-1].offset + 1
            fetched = all(consumer.highwater(tp) is not None for tp in consumer.assignment())
            if not batches and fetched:
                return dict(self.ends)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


async def wait_until_projected(
    bootstrap: str, conn: sqlite3.Connection, timeout: float, poll: float = 0.25
) -> bool:
    """True once the workers have committed every input and the read models hold every decision.

    Checked twice in a row with the decisions log unchanged, because a worker commits its input offsets
    asynchronously to publishing the decisions of those inputs. `conn` is the projector's database.
    """
    deadline = time.monotonic() + timeout
    inputs, decisions = TopicFollower(bootstrap, EVENTS_TOPIC), TopicFollower(bootstrap, DECISIONS_TOPIC)
    await inputs.start()
    await decisions.start()
    try:
        settled: dict[int, int] | None = None
        while time.monotonic() < deadline:
            published = await inputs.catch_up()
            committed = await committed_offsets(bootstrap, WORKER_GROUP, EVENTS_TOPIC)
            if all(committed.get(p, 0) >= end for p, end in published.items()):
                decided = await decisions.catch_up()
                projected = projected_positions(conn)
                caught_up = all(projected.get(p, -1) >= end - 1 for p, end in decided.items() if end > 0)
                if caught_up and decided == settled:
                    return True
                settled = decided if caught_up else None
            else:
                settled = None
            await asyncio.sleep(poll)
        return False
    finally:
        await inputs.stop()
        await decisions.stop()
