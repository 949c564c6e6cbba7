"""Bringing a partition's state up to an offset by reading the log between (a group-less consumer).

Used when a worker takes a partition over: from a snapshot, or from the state it still holds, to the first offset
of the messages it is about to decide. The read stops at the target offset or at the end of what the partition
holds, whichever comes first: offsets may be missing below the target (a compacted topic, transaction markers, a
retention cut), so the loop watches the consumer's position, not the offsets of the messages it sees.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from processor.kafka import EVENTS_TOPIC
from processor.kafka.partition import PartitionState, fold_in

FETCH_RECORDS = 10_000
# An empty fetch this long at or past the high watermark means the partition holds nothing more.
QUIET_MS = 500


async def read_up_to(bootstrap: str, partition: int, state: PartitionState, until: int) -> int:
    """Fold messages [state.next_offset, until) of the partition into `state`; returns how many were read.

    Afterwards `state.next_offset` is `until`, or the end of the partition if that comes first.
    """
    start = state.next_offset
    if start >= until:
        return 0
    # earliest: a target below the log start (a retention cut) starts at the log start, not at the end
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    read = 0
    try:
        tp = TopicPartition(EVENTS_TOPIC, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        while True:
            batches = await consumer.getmany(tp, timeout_ms=QUIET_MS, max_records=FETCH_RECORDS)
            for message in batches.get(tp, ()):
                if message.offset >= until:
                    break
                if message.offset >= state.next_offset:
                    fold_in(state, message.value, message.offset)
                    read += 1
            position = await consumer.position(tp)
            if position >= until:
                break
            highwater = consumer.highwater(tp)
            if not batches and highwater is not None and position >= highwater:
                break  # the end of what the partition holds
        state.next_offset = max(state.next_offset, min(position, until))
    finally:
        await consumer.stop()
    return read
