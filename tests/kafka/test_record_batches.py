"""Outputs added to record batches in several steps reach the broker complete and in order per partition, also
when they fill many batches."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from aiokafka import AIOKafkaProducer

from processor.kafka import DECISIONS_TOPIC
from processor.kafka.produce import BatchProducer
from tests.kafka.conftest import Cluster


def test_records_added_in_steps_arrive_complete_and_in_order_per_key(kafka: Cluster) -> None:
    keys = [f"tenant-{n}".encode() for n in range(6)]
    sent = [(keys[n % len(keys)], f"value-{n:05d}-".encode() + b"x" * 100, None) for n in range(3000)]

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", max_batch_size=4096)
        await producer.start()
        try:
            batches = await BatchProducer(producer).record_batches(DECISIONS_TOPIC)
            for first in range(0, len(sent), 250):  # as a worker drains
                batches.add(DECISIONS_TOPIC, sent[first : first + 250])
            assert batches.added[DECISIONS_TOPIC] == len(sent)
            deliveries = await batches.send()
            assert len(deliveries) > 50  # 3,000 records of ~130 bytes in batches of 4 KB
            await asyncio.gather(*deliveries)
        finally:
            await producer.stop()

    asyncio.run(asyncio.wait_for(send(), timeout=60))
    received: dict[bytes, list[bytes]] = defaultdict(list)
    partitions: dict[bytes, set[int]] = defaultdict(set)
    for message in kafka.read_topic(DECISIONS_TOPIC):
        assert message.key is not None
        received[message.key].append(message.value)
        partitions[message.key].add(message.partition)
    for key in keys:
        assert received[key] == [value for k, value, _ in sent if k == key]
        assert len(partitions[key]) == 1
