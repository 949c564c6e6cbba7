"""Publishing JSON Lines to `licensing.events`, keyed by tenant so that a tenant's events stay in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from itertools import islice
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from processor.kafka import EVENTS_TOPIC
from processor.kafka.produce import BATCH_BYTES, BatchProducer, Record

CHUNK = 20_000  # lines queued at a time: bounds memory, keeps the broker busy meanwhile


def tenant_key(raw: bytes) -> bytes | None:
    """The partition key: the event's tenant; a line without one still goes out (the worker dead-letters it)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    tenant = value.get("tenant") if isinstance(value, dict) else None
    return tenant.encode() if isinstance(tenant, str) else None


async def publish_lines(bootstrap: str, lines: Iterable[bytes], topic: str = EVENTS_TOPIC) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_batch_size=BATCH_BYTES)
    await producer.start()
    sent = 0
    try:
        batches = BatchProducer(producer)
        remaining = (raw for raw in lines if raw.strip())
        pending: list[asyncio.Future[Any]] = []
        while chunk := list(islice(remaining, CHUNK)):
            records: list[Record] = [(tenant_key(raw), raw, None) for raw in chunk]
            for delivery in pending:  # the chunk before this one: two in flight at most
                await delivery
            pending = await batches.send(topic, records)
            sent += len(chunk)
        for delivery in pending:
            await delivery
    finally:
        await producer.stop()
    return sent
