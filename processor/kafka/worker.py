"""The worker: `licensing.events` in, the same pure decision core, `licensing.decisions` out.

One Faust app (processor/kafka/batches.py: what Faust still does, and what it no longer does) whose consumer hands
batches of raw records to `decide_batch`: each partition's records are decided into its state (recovered first
when the worker has not been deciding it without a break: processor/kafka/deciders.py), the outputs are produced
as one record batch per destination partition, and once the broker has them all the input offsets are committed.
Delivery is at least once: messages after the last committed offset are decided again after a crash and their
decisions published again, with the same ids (`<input id>#<n>`), so consumers recognise them; the projector's rows
are full states, so they end up the same.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processor.kafka import DEAD_LETTER_TOPIC, DECISIONS_TOPIC, EVENTS_TOPIC, WORKER_GROUP, metrics
from processor.kafka.batches import BatchApp, RecordMap
from processor.kafka.deciders import PartitionDeciders
from processor.kafka.heap import keep_large_blocks_out_of_the_heap
from processor.kafka.logs import log, logging_config
from processor.kafka.partition import DEFAULT_DEDUPE_WINDOW, DecidedBatch
from processor.kafka.produce import BATCH_BYTES, BatchProducer

logger = logging.getLogger("licensing.worker")

FETCH_RECORDS = 5_000  # input records per batch at most


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    bootstrap: str
    app_id: str = WORKER_GROUP
    datadir: Path = Path(".licensing-worker")
    # Tansu answers a group join only after half the session timeout: short timeouts start workers promptly.
    session_timeout: float = 6.0
    rebalance_timeout: float = 6.0
    heartbeat_interval: float = 1.0
    loglevel: str = "WARNING"
    metrics_address: str | None = None  # HOST:PORT of /metrics, /ready and /live; None = not served
    dedupe_window: int = DEFAULT_DEDUPE_WINDOW

    @property
    def snapshot_dir(self) -> Path:
        return self.datadir / "snapshots"


class Worker:
    """The state and the batch path of one worker process (the Faust app calls `decide_batch`)."""

    def __init__(self, app: BatchApp, settings: WorkerSettings) -> None:
        self.app = app
        self.deciders = PartitionDeciders(settings.bootstrap, settings.snapshot_dir, settings.dedupe_window)
        self.assigned_once = False
        self._producer: BatchProducer | None = None

    def ready(self) -> bool:
        """In the consumer group with an assignment, and no partition being recovered."""
        return self.assigned_once and not self.app.rebalancing and not self.deciders.recovering

    def producer(self) -> BatchProducer:
        if self._producer is None:
            self._producer = BatchProducer(self.app.kafka_producer)
        return self._producer

    async def decide_batch(self, records: RecordMap) -> None:
        batches = await self.producer().record_batches(DECISIONS_TOPIC, DEAD_LETTER_TOPIC)
        out = DecidedBatch()

        def drain() -> None:
            """The outputs decided so far into the record batches (copied there: processor/kafka/produce.py)."""
            batches.add(DECISIONS_TOPIC, out.decisions)
            batches.add(DEAD_LETTER_TOPIC, out.dead_letters)
            out.decisions.clear()
            out.dead_letters.clear()

        next_offsets: dict[Any, int] = {}
        for tp, partition_records in records.items():
            next_offsets[tp] = await self.deciders.decide(tp.partition, partition_records, out, drain)
        await asyncio.gather(*await batches.send())
        self.deciders.batch_delivered({tp.partition: offset for tp, offset in next_offsets.items()})
        await self.app.batch_consumer.commit_offsets(next_offsets)
        metrics.EVENTS_DECIDED.inc(out.events)
        metrics.DECISIONS_PUBLISHED.inc(batches.added[DECISIONS_TOPIC])
        metrics.DEAD_LETTERS.inc(batches.added[DEAD_LETTER_TOPIC])
        consumer = self.app.consumer
        for tp, offset in next_offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(tp.partition).set(max(highwater - offset, 0))
            if self.deciders.snapshot_due(tp.partition):
                await self.deciders.snapshot(tp.partition)

    async def snapshot_idle_partitions(self) -> None:
        for partition in self.deciders.idle_snapshots_due():
            await self.deciders.snapshot(partition)

    async def on_partitions_revoked(self, revoked: set[Any]) -> None:
        self.deciders.on_rebalance()

    async def on_partitions_assigned(self, assigned: set[Any]) -> None:
        partitions = {tp.partition for tp in assigned if tp.topic == EVENTS_TOPIC}
        self.deciders.on_rebalance(partitions)
        self.assigned_once = True
        log(logger, "partitions assigned", partitions=sorted(partitions))


def create_app(settings: WorkerSettings) -> tuple[BatchApp, Worker]:
    app = BatchApp(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap}",
        broker_session_timeout=settings.session_timeout,
        broker_rebalance_timeout=settings.rebalance_timeout,
        broker_heartbeat_interval=settings.heartbeat_interval,
        broker_max_poll_records=FETCH_RECORDS,
        processing_guarantee="at_least_once",  # no idempotent/transactional producer needed (Tansu has none)
        producer_acks=-1,
        producer_max_batch_size=BATCH_BYTES,
        topic_disable_leader=True,  # no internal assignor topic
        topic_allow_declare=False,  # topics are created by `licensing topics`, never implicitly
        store="memory://",
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        datadir=str(settings.datadir),
    )
    worker = Worker(app, settings)
    app.batch_handler = worker.decide_batch
    app.topics.add(app.topic(EVENTS_TOPIC, key_serializer="raw", value_serializer="raw"))  # what the group consumes
    app.on_partitions_revoked.connect(_receiver(worker.on_partitions_revoked))
    app.on_partitions_assigned.connect(_receiver(worker.on_partitions_assigned))

    @app.timer(1.0)  # type: ignore[untyped-decorator]
    async def snapshot_idle_partitions() -> None:
        await worker.snapshot_idle_partitions()

    @app.task  # type: ignore[untyped-decorator]
    async def log_levels() -> None:
        """Once Faust has set logging up: the libraries at the worker's level, this runtime's own lines (recoveries,
        snapshots, assignments) at least at INFO."""
        for name in ("aiokafka", "faust", "mode"):
            logging.getLogger(name).setLevel(settings.loglevel)
        logging.getLogger("licensing").setLevel(min(logging.INFO, logging.getLevelName(settings.loglevel)))

    return app, worker


def _receiver(handler: Any) -> Any:
    """A receiver of Faust's partition signals (called with the app, the partitions and the signal)."""

    async def receive(sender: Any, partitions: set[Any], **_: Any) -> None:
        await handler(partitions)

    return receive


def run_worker(settings: WorkerSettings) -> None:
    from faust.worker import Worker as FaustWorker

    class QuietWorker(FaustWorker):
        """Faust's worker without its terminal spinner: the spinner writes cursor escape codes into the log and
        sets the root logger to DEBUG (every library then builds every debug record, a tenth of the old worker's
        time)."""

        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            self.spinner = None

    keep_large_blocks_out_of_the_heap()
    app, worker = create_app(settings)
    server = metrics.serve_metrics(settings.metrics_address, metrics.WORKER, worker.ready)
    try:
        QuietWorker(
            app,
            loglevel=settings.loglevel,
            quiet=True,
            logging_config=logging_config(settings.loglevel),
            redirect_stdouts=False,
        ).execute_from_commandline()
    finally:
        if server is not None:
            server.close()
