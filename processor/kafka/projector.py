"""The projector: `licensing.decisions` into the read models, positions committed with the rows.

Each partition's position lives in `projection_positions` (stream `licensing.decisions:<partition>`) and is
written in the same SQLite transaction as the rows it covers; on start and on every assignment the consumer seeks
to the stored position, so a crash loses nothing and applies nothing twice. Decisions that a worker re-produced
after its own crash carry the same ids and full entry states: applying them again leaves the same final rows.
Every fetch (up to FETCH_RECORDS decisions) is one transaction: the store coalesces the batch's changes per row.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from processor.kafka import DECISIONS_TOPIC, PROJECTOR_GROUP, metrics
from processor.kafka.logs import configure, log
from projections.store import ProjectionStore

logger = logging.getLogger("licensing.projector")

FETCH_RECORDS = 20_000  # decisions per transaction at most


def stream_name(partition: int) -> str:
    return f"{DECISIONS_TOPIC}:{partition}"


class _SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        for tp in assigned:
            position = self.projector.store.position("tenants", stream_name(tp.partition))
            if position >= 0:
                self.projector.consumer.seek(tp, position + 1)
            else:
                await self.projector.consumer.seek_to_beginning(tp)
        self.projector.assigned_once = True
        log(logger, "partitions assigned", partitions=sorted(tp.partition for tp in assigned))


class Projector:
    def __init__(self, conn: sqlite3.Connection, bootstrap: str) -> None:
        self.conn = conn
        self.store = ProjectionStore(conn)
        self.bootstrap = bootstrap
        self.assigned_once = False
        self.running = False

    def ready(self) -> bool:
        return self.running and self.assigned_once

    async def run(self, stop: asyncio.Event | None = None) -> None:
        self.consumer = AIOKafkaConsumer(  # created inside the running loop, as aiokafka requires
            bootstrap_servers=self.bootstrap,
            group_id=PROJECTOR_GROUP,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            max_poll_records=FETCH_RECORDS,
        )
        self.consumer.subscribe([DECISIONS_TOPIC], listener=_SeekToStoredPositions(self))
        await self.consumer.start()
        self.running = True
        try:
            while stop is None or not stop.is_set():
                batches = await self.consumer.getmany(timeout_ms=200, max_records=FETCH_RECORDS)
                if batches:
                    self.apply(batches)
                    self._measure(batches)
        finally:
            self.running = False
            await self.consumer.stop()

    def apply(self, batches: dict[TopicPartition, list[Any]]) -> None:
        apply, loads = self.store.apply, orjson.loads
        self.conn.execute("BEGIN")
        try:
            for tp, messages in batches.items():
                stream = stream_name(tp.partition)
                for message in messages:
                    apply((loads(message.value),), stream, message.offset)
            self.store.flush()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _measure(self, batches: dict[TopicPartition, list[Any]]) -> None:
        for tp, messages in batches.items():
            if not messages:
                continue
            metrics.DECISIONS_PROJECTED.inc(len(messages))
            position = messages[-1].offset
            metrics.PROJECTOR_POSITION.labels(tp.partition).set(position)
            highwater = self.consumer.highwater(tp)
            if highwater is not None:
                metrics.PROJECTOR_LAG.labels(tp.partition).set(max(highwater - position - 1, 0))


def run_projector(conn: sqlite3.Connection, bootstrap: str, metrics_address: str | None = None) -> None:
    """`licensing project`: until SIGTERM or SIGINT, which end it between two transactions."""
    configure("INFO")
    projector = Projector(conn, bootstrap)
    server = metrics.serve_metrics(metrics_address, metrics.PROJECTOR, projector.ready)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        log(logger, "projector started", bootstrap=bootstrap)
        await projector.run(stop)
        log(logger, "projector stopped")

    try:
        asyncio.run(main())
    finally:
        if server is not None:
            server.close()


def projected_positions(conn: sqlite3.Connection) -> dict[int, int]:
    """Per decisions partition, the last offset the read models hold (none before a projector has created them)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'projection_positions'").fetchone() is None:
        return {}
    rows = conn.execute(
        "SELECT stream, position FROM projection_positions WHERE model = 'tenants' AND stream LIKE ?",
        (f"{DECISIONS_TOPIC}:%",),
    )
    return {int(stream.rsplit(":", 1)[1]): position for stream, position in rows}
