"""The partitions a worker decides: their states, how they are recovered, and when they are snapshotted.

Recovery is bounded. When a worker gets a batch of a partition it has not been deciding without a break (the first
batch after a start, a `kill -9`, a rebalance), it brings the partition's state to the batch's first offset from
the best start it has: the state it still holds, or the partition's snapshot, or (neither usable) an empty state at
offset 0, and reads only the messages between from the log. Snapshots are written every so many events, in
proportion to the partition's tenants (encoding one is O(tenants)), and when the partition has been idle for a
moment; so the tail a recovery reads is bounded by the tenants' size, never by the partition's history.

A snapshot is written only between two batches, after every output of the events it covers was delivered: a
snapshot ahead of the offsets a takeover redelivers (committed later than the snapshot was written, or not at all)
is therefore still a valid start, and the redelivered messages below it are skipped.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processor.kafka import metrics
from processor.kafka.logs import log
from processor.kafka.partition import DEFAULT_DEDUPE_WINDOW, DecidedBatch, PartitionState, RecentIds, decide_into
from processor.kafka.recovery import read_up_to
from processor.kafka.snapshots import encode_snapshot, read_snapshot, write_snapshot

logger = logging.getLogger("licensing.worker")

# A snapshot once this many events were folded in since the last one, and at least SNAPSHOT_PER_ENTITY times the
# partition's users and groups (so that encoding snapshots costs a bounded share of the time per event).
SNAPSHOT_MIN_EVENTS = 50_000
SNAPSHOT_PER_ENTITY = 10
# A partition with events not in its snapshot gets one after this many seconds without a batch.
IDLE_SNAPSHOT_SECONDS = 2.0
# Tenant states are long-lived and acyclic: moving them out of the cyclic collector's reach now and then keeps
# its full collections from walking millions of containers (the embedded runtime does the same per batch).
FREEZE_EVERY = 10_000
# Input events decided between two moves of their outputs into record batches. Holding a whole fetch's outputs
# (thousands of bytes objects) until its end interleaves them in the heap with the tenant states that grow
# meanwhile; freed, they leave holes the allocator cannot give back, and the worker's RSS grew with its history
# (docs/internals.md, "The Kafka runtime"; bench/JOURNAL.md, session 13).
DRAIN_EVERY = 250


@dataclass(frozen=True, slots=True)
class Recovery:
    partition: int
    start: str  # what the state was brought up from: "memory", "snapshot" or "log" (offset 0)
    from_offset: int
    to_offset: int
    tail: int  # messages read from the log
    seconds: float


class PartitionDeciders:
    def __init__(self, bootstrap: str, snapshot_dir: Path, window: int = DEFAULT_DEDUPE_WINDOW) -> None:
        self.bootstrap = bootstrap
        self.snapshot_dir = snapshot_dir
        self.window = window
        self.partitions: dict[int, PartitionState] = {}
        self.live: set[int] = set()  # partitions decided without a break since their last recovery
        self.delivered: dict[int, int] = {}  # partition -> offset below which every output was delivered
        self.snapshotted: dict[int, int] = {}  # partition -> next offset its latest snapshot covers
        self.last_batch: dict[int, float] = {}
        self.recoveries: list[Recovery] = []
        self.recovering = False
        self._since_freeze = 0

    # -- assignment ----------------------------------------------------------------------------------------------

    def on_rebalance(self, assigned: set[int] | None = None) -> None:
        """Partitions may have moved: verify each one on its next batch; forget those no longer assigned."""
        self.live.clear()
        if assigned is not None:
            for partition in [p for p in self.partitions if p not in assigned]:
                del self.partitions[partition]
                self.delivered.pop(partition, None)
            metrics.PARTITIONS_ASSIGNED.set(len(assigned))

    # -- deciding ------------------------------------------------------------------------------------------------

    async def decide(self, partition: int, records: Sequence[Any], out: DecidedBatch, drain: Callable[[], None]) -> int:
        """Decide the partition's records (consecutive, in offset order) into `out`, calling `drain` after every
        DRAIN_EVERY of them to move the outputs on; returns the next offset."""
        state = await self.ready(partition, records[0].offset)
        start = state.next_offset
        decided_before = out.events
        for first in range(0, len(records), DRAIN_EVERY):
            for record in records[first : first + DRAIN_EVERY]:
                offset = record.offset
                if offset >= start:
                    decide_into(state, record.value, record.key, partition, offset, out)
            drain()
        self.last_batch[partition] = time.monotonic()
        self._since_freeze += out.events - decided_before
        if self._since_freeze >= FREEZE_EVERY:
            gc.freeze()
            self._since_freeze = 0
        return state.next_offset

    async def ready(self, partition: int, first: int) -> PartitionState:
        """The partition's state, at `first` or past it (past: skip the records below its next offset)."""
        state = self.partitions.get(partition)
        if state is not None and partition in self.live and first >= state.next_offset:
            return state  # the common case; a gap is an offset the log does not hold (compaction, markers)
        recovery = await self.recover(partition, first)
        self.recoveries.append(recovery)
        return self.partitions[partition]

    async def recover(self, partition: int, first: int) -> Recovery:
        self.recovering = True
        started = time.perf_counter()
        try:
            state, start = self._start(partition, first)
            from_offset = state.next_offset
            tail = await read_up_to(self.bootstrap, partition, state, first)
        finally:
            self.recovering = False
        self.partitions[partition] = state
        self.delivered[partition] = state.next_offset
        self.live.add(partition)
        gc.freeze()
        recovery = Recovery(partition, start, from_offset, state.next_offset, tail, time.perf_counter() - started)
        metrics.RECOVERY_SECONDS.labels(partition).set(recovery.seconds)
        metrics.RECOVERY_TAIL.labels(partition).set(tail)
        metrics.RECOVERIES.labels(start).inc()
        log(
            logger,
            "partition recovered",
            partition=partition,
            start=start,
            from_offset=from_offset,
            to_offset=state.next_offset,
            tail=tail,
            seconds=round(recovery.seconds, 3),
        )
        return recovery

    def _start(self, partition: int, first: int) -> tuple[PartitionState, str]:
        """The best state to read the log from: the highest usable of memory and snapshot, else offset 0."""
        held = self.partitions.get(partition)
        if held is not None and self.delivered.get(partition) != held.next_offset:
            held = None  # a batch was cut short (its outputs may be undelivered): its state is ahead of the log
        if held is not None and held.next_offset > first:
            held = None  # the log is redelivered from before this state: another worker may have moved on
        if held is not None and held.next_offset == first:
            return held, "memory"  # nothing to read, and no snapshot can be closer
        loaded = read_snapshot(self.snapshot_dir, partition, self.window)
        if loaded is not None:
            self.snapshotted[partition] = loaded.state.next_offset
            metrics.SNAPSHOT_OFFSET.labels(partition).set(loaded.state.next_offset)
        if loaded is not None and (held is None or loaded.state.next_offset > held.next_offset):
            return loaded.state, "snapshot"
        if held is not None:
            return held, "memory"
        return PartitionState(recent=RecentIds(self.window)), "log"

    def batch_delivered(self, next_offsets: dict[int, int]) -> None:
        """Every output of the partitions' events below these offsets is with the broker."""
        self.delivered.update(next_offsets)

    # -- snapshots -----------------------------------------------------------------------------------------------

    def snapshot_due(self, partition: int) -> bool:
        state = self.partitions.get(partition)
        if state is None or self.delivered.get(partition) != state.next_offset:
            return False
        behind = state.next_offset - self.snapshotted.get(partition, 0)
        return behind >= max(SNAPSHOT_MIN_EVENTS, SNAPSHOT_PER_ENTITY * state.entities())

    def idle_snapshots_due(self) -> list[int]:
        now = time.monotonic()
        return [
            partition
            for partition, state in self.partitions.items()
            if partition in self.live
            and self.delivered.get(partition) == state.next_offset
            and state.next_offset > self.snapshotted.get(partition, 0)
            and now - self.last_batch.get(partition, now) >= IDLE_SNAPSHOT_SECONDS
        ]

    async def snapshot(self, partition: int) -> None:
        """Encode the partition's state now (between batches) and write it beside the event loop."""
        state = self.partitions[partition]
        started = time.perf_counter()
        blob = encode_snapshot(partition, state)
        offset = state.next_offset
        await asyncio.to_thread(write_snapshot, self.snapshot_dir, partition, blob)
        seconds = time.perf_counter() - started
        self.snapshotted[partition] = offset
        metrics.SNAPSHOT_OFFSET.labels(partition).set(offset)
        metrics.SNAPSHOT_SECONDS.labels(partition).set(seconds)
        metrics.SNAPSHOT_BYTES.labels(partition).set(len(blob))
        log(logger, "snapshot written", partition=partition, offset=offset, bytes=len(blob), seconds=round(seconds, 3))
