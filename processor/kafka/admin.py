"""Topic creation and offset queries (aiokafka admin and a group-less consumer)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from processor.kafka import DEAD_LETTER_TOPIC, DECISIONS_TOPIC, EVENTS_TOPIC

TOPICS = (EVENTS_TOPIC, DECISIONS_TOPIC, DEAD_LETTER_TOPIC)


async def create_topics(bootstrap: str, partitions: int, replication: int = 1) -> list[str]:
    """Create the three topics; existing ones are left as they are (idempotent). Returns those created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(t, partitions, replication) for t in TOPICS if t not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # created concurrently by someone else
        return [t.name for t in wanted]
    finally:
        await admin.close()


class CommittedOffsets:
    """Reads the offsets a consumer group has committed on a topic, without joining the group; one connection for
    many reads (`licensing wait` asks every quarter of a second)."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        self.topic = topic

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()

    async def read(self) -> dict[int, int]:
        partitions = self.consumer.partitions_for_topic(self.topic) or set()
        if not partitions:
            await self.consumer._client.force_metadata_update()
            partitions = self.consumer.partitions_for_topic(self.topic) or set()
        committed = {}
        for partition in sorted(partitions):
            offset = await self.consumer.committed(TopicPartition(self.topic, partition))
            if offset is not None and offset >= 0:
                committed[partition] = offset
        return committed


async def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """Offsets the consumer group has committed on the topic, read without joining the group."""
    reader = CommittedOffsets(bootstrap, group, topic)
    await reader.start()
    try:
        return await reader.read()
    finally:
        await reader.stop()
