"""Faust with its per-message path replaced by batches of raw records.

Faust still runs the worker: the app and its lifecycle (start, signals, graceful stop), consumer group membership,
partition assignment and the rebalance protocol (flow stopped, partitions paused, positions reset to the committed
offsets, flow resumed), the consumer thread that fetches, and the producer. What it no longer does is turn every
record into a message, an `Event` and a trip through the conductor, a channel queue and a stream iterator with an
acknowledgement each: in a py-spy profile of the old worker that path took most of the CPU and the decision core ~5 %.

`BatchConsumer._drain_messages` (Faust's fetch loop, which called the conductor once per record) hands each fetched
record map, as aiokafka returns it, to the app's batch handler, which decides it, publishes the outputs and commits
the offsets once per batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

# The records of one fetch: {TopicPartition: [ConsumerRecord, ...]}, each list in offset order.
RecordMap = dict[Any, list[Any]]
BatchHandler = Callable[[RecordMap], Awaitable[None]]


# How long the broker may hold a fetch for partitions without new records. Faust asks for 1,500 ms, and the client
# sends a broker one fetch at a time: while a fetch for the idle partitions is held, the busy one waits for its
# next records. With 1,500 ms, 200,000 events took the worker 21.5 s (gaps of ~1.3 s after every fetch).
FETCH_MAX_WAIT_MS = 50


class _BatchConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts its fetcher
        return consumer


class BatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer whose fetch loop delivers record maps to `app.batch_handler`."""

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _BatchConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _drain_messages(self, fetcher: Any) -> None:
        handler = cast(BatchApp, self.app).batch_handler
        stopped, fetcher_stopped = self._stopped.is_set, fetcher._stopped.is_set
        while not (stopped() or fetcher_stopped()):
            records, active = await self._wait_next_records(timeout=1.0)
            if records is None or self.should_stop:
                return
            if not records:
                continue
            if not self.flow_active:
                # Fetched while a rebalance began: drop the records, read again from the committed offsets (as
                # Faust's own loop does).
                await self.perform_seek()
                continue
            batch = {tp: rs for tp, rs in records.items() if rs and (active is None or tp in active)}
            if batch:
                await handler(batch)

    async def commit_offsets(self, offsets: dict[Any, int]) -> bool:
        """Commit next offsets of partitions (those no longer assigned are left out by Faust's consumer thread)."""
        committed: bool = await self._commit(offsets)
        return committed


class _BatchTransport(faust_aiokafka.Transport):
    Consumer = BatchConsumer


class BatchApp(faust.App):
    """A Faust app whose consumer delivers batches of raw records to `batch_handler`."""

    batch_handler: BatchHandler

    @property
    def batch_consumer(self) -> BatchConsumer:
        return cast(BatchConsumer, self.consumer)

    @property
    def kafka_producer(self) -> Any:
        """The aiokafka producer under Faust's (record batches are sent to it directly)."""
        return cast(faust_aiokafka.Producer, self.producer)._ensure_producer()

    def _new_transport(self) -> Any:
        return _BatchTransport(self.conf.broker_consumer, self)
