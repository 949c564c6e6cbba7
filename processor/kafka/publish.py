"""Publishing JSON Lines to `licensing.events`, keyed by tenant so that a tenant's events stay in order."""

from __future__ import annotations

import json
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from processor.kafka import EVENTS_TOPIC


def tenant_key(raw: bytes) -> bytes | None:
    """The partition key: the event's tenant; a line without one still goes out (the worker dead-letters it)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    tenant = value.get("tenant") if isinstance(value, dict) else None
    return tenant.encode() if isinstance(tenant, str) else None


async def publish_lines(bootstrap: str, lines: Iterable[bytes], topic: str = EVENTS_TOPIC) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent = 0
    try:
        pending = []
        for raw in lines:
            if not raw.strip():
                continue
            pending.append(await producer.send(topic, value=raw, key=tenant_key(raw)))
            sent += 1
            if len(pending) >= 1000:
                for future in pending:
                    await future
                pending.clear()
        for future in pending:
            await future
        await producer.flush()
    finally:
        await producer.stop()
    return sent
