"""Producing many messages at once as record batches, one per destination partition (aiokafka's batch API).

Still one CloudEvent per Kafka message: only the produce calls are batched. `send` per message builds a future and
a callback for every message and re-checks metadata each time, which cost more than deciding the event did; a
batch builder appends records in C and is sent with one call. The partition is the one aiokafka's default
partitioner gives the key (murmur2, pure Python, so memoised per key: decisions are keyed by tenant).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

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


class BatchProducer:
    """Sends lists of records to topics as record batches and waits until the broker has them all."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._partitioners: dict[str, KeyPartitioner] = {}

    async def partitioner(self, topic: str) -> KeyPartitioner:
        partitioner = self._partitioners.get(topic)
        if partitioner is None:
            partitions = await self.producer.partitions_for(topic)
            partitioner = self._partitioners[topic] = KeyPartitioner(len(partitions))
        return partitioner

    async def send(self, topic: str, records: Iterable[Record]) -> list[asyncio.Future[Any]]:
        """Queue the records (in order per partition); returns the futures of their batches' delivery."""
        partition_of = await self.partitioner(topic)
        per_partition: dict[int, list[Record]] = {}
        for record in records:
            per_partition.setdefault(partition_of(record[0]), []).append(record)
        deliveries = []
        for partition, queued in per_partition.items():
            batch = self.producer.create_batch()
            for key, value, headers in queued:
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:  # full
                    deliveries.append(await self.producer.send_batch(batch, topic, partition=partition))
                    batch = self.producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None, headers=headers)
            deliveries.append(await self.producer.send_batch(batch, topic, partition=partition))
        return deliveries

    async def send_and_wait(self, topic: str, records: Iterable[Record]) -> None:
        await asyncio.gather(*await self.send(topic, records))
