"""Faust workers: `licensing.events` in, the same pure decision core, `licensing.decisions` out.

Worker state and recovery. A worker keeps, per assigned input partition, the tenant states of that partition and
the offset it has folded in. The log is the truth: when a message arrives at an offset the worker has not reached
(first message after a start, a `kill -9`, or a rebalance that moved the partition here), the worker rebuilds that
partition's states by re-deciding the partition from offset 0 up to that message with a group-less consumer,
discarding the outputs (they were published before). Delivery is at least once: messages after the last
committed offset are decided again after a crash and their decisions published again, with the same ids
(`<input id>#<n>`), so consumers recognise them; the projector's rows are full states, so they end up the same.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition

from events import ParseError, parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import STALE, decide, new_tenant
from processor.core.outputs import encode_output
from processor.core.state import TenantState
from processor.kafka import DEAD_LETTER_TOPIC, DECISIONS_TOPIC, EVENTS_TOPIC, WORKER_GROUP


@dataclass(slots=True)
class PartitionState:
    next_offset: int = 0
    tenants: dict[str, TenantState] = field(default_factory=dict)
    seen_ids: dict[str, set[str]] = field(default_factory=dict)  # per tenant: ids applied (duplicates are no-ops)


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def decide_message(state: PartitionState, raw: bytes, key: bytes | None, partition: int, offset: int) -> list[Outgoing]:
    """Decide one input message; a malformed one becomes a dead letter carrying the original bytes."""
    try:
        event = parse_event(raw)
    except ParseError as exc:
        headers = [
            ("dlq.reason", exc.reason.encode()),
            ("dlq.source-topic", EVENTS_TOPIC.encode()),
            ("dlq.source-partition", str(partition).encode()),
            ("dlq.source-offset", str(offset).encode()),
        ]
        tenant = exc.tenant.encode() if exc.tenant else key
        return [Outgoing(DEAD_LETTER_TOPIC, tenant, raw, headers)]
    seen = state.seen_ids.setdefault(event.tenant, set())
    if event.id in seen:
        return []
    seen.add(event.id)
    tenant_state = state.tenants.get(event.tenant)
    if tenant_state is None:
        tenant_state = state.tenants[event.tenant] = new_tenant(event.tenant, shipped_catalog())
    decision = decide(tenant_state, event)
    if decision.status == STALE:
        return []
    key_bytes = event.tenant.encode()
    return [Outgoing(DECISIONS_TOPIC, key_bytes, encode_output(o), []) for o in decision.outputs]


BATCH_MAX = 2000  # input events decided between two acknowledgements
BATCH_WITHIN = 0.05  # seconds to wait for a batch to fill

# Tenant states are long-lived and acyclic: moving them out of the cyclic collector's reach now and then keeps
# its full collections from walking millions of containers (the embedded runtime does the same per batch).
FREEZE_EVERY = 10_000


class PartitionDeciders:
    """The tenant states of every partition this worker decides, rebuilt from the log when needed."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.partitions: dict[int, PartitionState] = {}
        self.rebuilds = 0
        self.handled = 0

    async def handle(self, partition: int, offset: int, key: bytes | None, raw: bytes) -> list[Outgoing]:
        state = self.partitions.get(partition)
        if state is None or offset > state.next_offset:
            state = self.partitions[partition] = await self.rebuild(partition, offset)
            gc.freeze()
        if offset < state.next_offset:
            return []  # decided by this worker already (redelivered after a rebalance)
        outgoing = decide_message(state, raw, key, partition, offset)
        state.next_offset = offset + 1
        self.handled += 1
        if self.handled % FREEZE_EVERY == 0:
            gc.freeze()
        return outgoing

    async def rebuild(self, partition: int, until: int) -> PartitionState:
        """Re-decide offsets [0, until) of the partition silently."""
        self.rebuilds += 1
        state = PartitionState()
        if until == 0:
            return state
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(EVENTS_TOPIC, partition)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            while state.next_offset < until:
                batches = await consumer.getmany(tp, timeout_ms=1000, max_records=5000)
                for message in batches.get(tp, []):
                    if message.offset >= until:
                        break
                    decide_message(state, message.value, message.key, partition, message.offset)
                    state.next_offset = message.offset + 1
        finally:
            await consumer.stop()
        return state


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    bootstrap: str
    app_id: str = WORKER_GROUP
    datadir: Path = Path(".licensing-worker")
    # Tansu answers a group join only after half the session timeout: short timeouts start workers promptly.
    session_timeout: float = 6.0
    rebalance_timeout: float = 6.0
    heartbeat_interval: float = 1.0
    commit_interval: float = 0.5
    loglevel: str = "WARNING"


def create_app(settings: WorkerSettings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap}",
        broker_session_timeout=settings.session_timeout,
        broker_rebalance_timeout=settings.rebalance_timeout,
        broker_heartbeat_interval=settings.heartbeat_interval,
        broker_commit_interval=settings.commit_interval,
        processing_guarantee="at_least_once",  # no idempotent/transactional producer needed (Tansu has none)
        producer_acks=-1,
        topic_disable_leader=True,  # no internal assignor topic
        topic_allow_declare=False,  # topics are created by `licensing topics`, never implicitly
        store="memory://",
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        datadir=str(settings.datadir),
    )
    events = app.topic(EVENTS_TOPIC, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    deciders = PartitionDeciders(settings.bootstrap)

    @app.agent(events)
    async def decide_events(stream: Any) -> None:
        # Batches: Faust acks a batch's input events only when the loop comes back for the next one, and by then
        # every output of the batch is delivered (awaited below): at least once, with far fewer round trips.
        # Outputs go straight to the producer (the topic layer adds per-message futures and callbacks we don't use).
        async for batch in stream.take_events(BATCH_MAX, within=BATCH_WITHIN):
            deliveries = []
            for event in batch:
                message = event.message
                for out in await deciders.handle(message.partition, message.offset, message.key, message.value):
                    delivery = await app.producer.send(out.topic, out.key, out.value, None, None, out.headers or None)
                    deliveries.append(delivery)
            await asyncio.gather(*deliveries)

    @app.task  # type: ignore[untyped-decorator]
    async def quiet_client_loggers() -> None:
        """The Kafka client libraries log every request at DEBUG once logging is set up: a tenth of the worker's
        time went into building those records. They log at the worker's level."""
        for name in ("aiokafka", "faust", "mode"):
            logging.getLogger(name).setLevel(settings.loglevel)

    return app


def run_worker(settings: WorkerSettings) -> None:
    from faust.worker import Worker

    app = create_app(settings)
    Worker(app, loglevel=settings.loglevel, quiet=True).execute_from_commandline()
