"""Producing many messages at once as record batches, one per destination partition (aiokafka's batch API).

Still one CloudEvent per Kafka message: only the produce calls are batched. `send` per message builds a future and
a callback for every message and re-checks metadata each time, which cost more than deciding the event did; a
batch builder appends records in C and is sent with one call. The partition is the one aiokafka's default
partitioner gives the key (murmur2, pure Python, so memoised per key: decisions are keyed by tenant).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder

Record = tuple[bytes | None, bytes, list[tuple[str, bytes]] | None]  # key, value, headers

# Bytes per record batch: large batches mean few produce calls; well under the brokers' 1 MB default message limit.
BATCH_BYTES = 512 * 1024


class KeyPartitioner:
    """The partition of a key on a topic, as aiokafka's DefaultPartitioner picks it, memoised."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self._memo: dict[bytes, int] = {}

    def __call__(self, key: bytes | None) -> int:
        if key is None:
            return random.randrange(self.partitions)
        partition = self._memo.get(key)
        if partition is None:
            partition = self._memo[key] = (murmur2(key) & 0x7FFFFFFF) % self.partitions
        return partition


class RecordBatches:
    """Records copied into record batches as they are added, one batch being filled per (topic, partition).

    A batch's records live in its one growing buffer, not as a bytes object each: a worker adds the outputs of every
    few hundred input events as they are decided (processor/kafka/deciders.py, `DRAIN_EVERY`), so an input batch's
    thousands of outputs never sit in memory as small objects among the tenant states it grows.
    """

    def __init__(self, producer: AIOKafkaProducer, partitioners: dict[str, KeyPartitioner]) -> None:
        self._producer = producer
        self._partitioners = partitioners
        self._filling: dict[tuple[str, int], BatchBuilder] = {}
        self._full: list[tuple[str, int, BatchBuilder]] = []  # in the order they filled: per partition, in order
        self.added: Counter[str] = Counter()  # records per topic

    def add(self, topic: str, records: Iterable[Record]) -> None:
        partition_of = self._partitioners[topic]
        added = 0
        for key, value, headers in records:
            partition = partition_of(key)
            batch = self._filling.get((topic, partition))
            if batch is None:
                batch = self._filling[topic, partition] = self._producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:  # full
                self._full.append((topic, partition, batch))
                batch = self._filling[topic, partition] = self._producer.create_batch()
                batch.append(key=key, value=value, timestamp=None, headers=headers)
            added += 1
        self.added[topic] += added

    async def send(self) -> list[asyncio.Future[Any]]:
        """Queue every batch (in order per partition); returns the futures of their delivery."""
        batches = self._full + [(topic, partition, batch) for (topic, partition), batch in self._filling.items()]
        self._full, self._filling = [], {}
        send = self._producer.send_batch
        return [await send(batch, topic, partition=partition) for topic, partition, batch in batches]


class BatchProducer:
    """Sends records to topics as record batches and waits until the broker has them all."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._partitioners: dict[str, KeyPartitioner] = {}

    async def partitioner(self, topic: str) -> KeyPartitioner:
        partitioner = self._partitioners.get(topic)
        if partitioner is None:
            partitions = await self.producer.partitions_for(topic)
            partitioner = self._partitioners[topic] = KeyPartitioner(len(partitions))
        return partitioner

    async def record_batches(self, *topics: str) -> RecordBatches:
        """Empty record batches for these topics (their partition counts looked up once)."""
        for topic in topics:
            await self.partitioner(topic)
        return RecordBatches(self.producer, self._partitioners)

    async def send(self, topic: str, records: Iterable[Record]) -> list[asyncio.Future[Any]]:
        """Queue the records (in order per partition); returns the futures of their batches' delivery."""
        batches = await self.record_batches(topic)
        batches.add(topic, records)
        return await batches.send()

    async def send_and_wait(self, topic: str, records: Iterable[Record]) -> None:
        await asyncio.gather(*await self.send(topic, records))
