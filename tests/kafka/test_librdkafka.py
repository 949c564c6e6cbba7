"""A client of another family, librdkafka (confluent-kafka's bundled 2.x), publishes events and reads decisions end to
end through the dev broker: the decisions it reads, deduplicated by id, are the embedded ones, in order.

librdkafka's default partitioner hashes keys with CRC32; `murmur2_random` is the Java client's and aiokafka's (which
`licensing publish` uses), so that every producer sends a tenant to the same partition.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from processor.demo.generator import generate_demo_events, write_jsonl
from processor.kafka import DECISIONS_TOPIC, EVENTS_TOPIC
from tests.kafka.conftest import PARTITIONS, Cluster, Embedded, Message, dedupe_decisions, partition_of


def test_librdkafka_publishes_events_and_reads_the_decisions(kafka: Cluster, embedded: Callable[..., Embedded]) -> None:
    path = kafka.tmp / "demo.jsonl"
    write_jsonl(generate_demo_events(users=300), path)
    reference = embedded(path)
    expected = reference.decisions()["contoso"]
    lines = path.read_bytes().splitlines()

    db = kafka.tmp / "kafka.db"
    worker, projector = kafka.start_worker(), kafka.start_projector(db)

    producer = Producer({"bootstrap.servers": kafka.bootstrap, "partitioner": "murmur2_random", "acks": "all"})
    failures: list[str] = []

    def delivered(error: object, message: object) -> None:
        if error is not None:
            failures.append(str(error))

    for line in lines:
        producer.produce(EVENTS_TOPIC, value=line, key=b"contoso", on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(30) == 0, "librdkafka did not deliver every event within 30 s"
    assert failures == []
    events = kafka.read_topic(EVENTS_TOPIC)
    assert {m.partition for m in events} == {partition_of(b"contoso")}  # where `licensing publish` sends it too
    assert [m.value for m in events] == lines

    kafka.wait_projected(db)
    kafka.assert_running(worker, projector)

    consumer = Consumer(
        {"bootstrap.servers": kafka.bootstrap, "group.id": "librdkafka-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(DECISIONS_TOPIC, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    read: list[Message] = []
    deadline = time.monotonic() + 60
    try:
        while len(dedupe_decisions(read).get("contoso", [])) < len(expected):
            assert time.monotonic() < deadline, f"librdkafka read {len(read)} decisions of {len(expected)} in 60 s"
            for message in consumer.consume(num_messages=1000, timeout=0.5):
                if message.error() is not None:
                    raise KafkaException(message.error())
                headers = tuple((k, v) for k, v in (message.headers() or ()))
                read.append(Message(message.partition(), message.offset(), message.key(), message.value(), headers))
    finally:
        consumer.close()
    decisions = dedupe_decisions(sorted(read, key=lambda m: (m.partition, m.offset)))
    assert decisions["contoso"] == expected
    assert json.loads(kafka.export(db, "contoso")) == json.loads(reference.export("contoso"))
