"""The projector: `licensing.decisions` into the read models, positions committed with the rows.

Each partition's position lives in `projection_positions` (stream `licensing.decisions:<partition>`) and is
written in the same SQLite transaction as the rows it covers; on start and on every assignment the consumer seeks
to the stored position, so a crash loses nothing and applies nothing twice. Decisions that a worker re-produced
after its own crash carry the same ids and full entry states: applying them again leaves the same final rows.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from processor.kafka import DECISIONS_TOPIC, PROJECTOR_GROUP
from projections.store import ProjectionStore


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


class Projector:
    def __init__(self, conn: sqlite3.Connection, bootstrap: str) -> None:
        self.conn = conn
        self.store = ProjectionStore(conn)
        self.bootstrap = bootstrap

    async def run(self, stop: asyncio.Event | None = None) -> None:
        self.consumer = AIOKafkaConsumer(  # created inside the running loop, as aiokafka requires
            bootstrap_servers=self.bootstrap,
            group_id=PROJECTOR_GROUP,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            max_poll_records=2000,
        )
        self.consumer.subscribe([DECISIONS_TOPIC], listener=_SeekToStoredPositions(self))
        await self.consumer.start()
        try:
            while stop is None or not stop.is_set():
                batches = await self.consumer.getmany(timeout_ms=200, max_records=2000)
                if batches:
                    self.apply(batches)
        finally:
            await self.consumer.stop()

    def apply(self, batches: dict[TopicPartition, list[Any]]) -> None:
        self.conn.execute("BEGIN")
        try:
            for tp, messages in batches.items():
                for message in messages:
                    self.store.apply([json.loads(message.value)], stream_name(tp.partition), message.offset)
            self.store.flush()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise


def projected_positions(conn: sqlite3.Connection) -> dict[int, int]:
    """Per decisions partition, the last offset the read models hold (none before a projector has created them)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'projection_positions'").fetchone() is None:
        return {}
    rows = conn.execute(
        "SELECT stream, position FROM projection_positions WHERE model = 'tenants' AND stream LIKE ?",
        (f"{DECISIONS_TOPIC}:%",),
    )
    return {int(stream.rsplit(":", 1)[1]): position for stream, position in rows}
