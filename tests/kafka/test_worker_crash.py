"""Workers killed with SIGKILL mid-stream: a restarted (or surviving plus new) worker recovers the partitions it gets
(from a snapshot or the log; tests/kafka/test_recovery.py), re-decides what was not committed, and the result is the
embedded one — same export, and the decisions topic deduplicated by id equal to the embedded decisions (a
re-published decision is identical)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from processor.demo.generator import generate_demo_events, write_jsonl
from processor.kafka import DECISIONS_TOPIC, WORKER_GROUP
from tests.kafka.conftest import (
    Cluster,
    Embedded,
    assert_same_as_embedded,
    interleave,
    partition_of,
    tenants_on_partitions,
)


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.8])
def test_worker_killed_mid_stream_and_restarted(
    fraction: float, kafka: Cluster, embedded: Callable[..., Embedded]
) -> None:
    path = kafka.tmp / "demo.jsonl"
    # ~23,000 events: several of the worker's batches (up to 5,000 events each), so that a kill lands mid-stream
    write_jsonl(generate_demo_events(users=5000), path)
    reference = embedded(path)
    total = len(reference.decisions()["contoso"])
    db = kafka.tmp / "kafka.db"

    kafka.publish(path)  # all of it first: the worker starts with a full backlog in flight
    projector = kafka.start_projector(db)
    worker = kafka.start_worker("worker")
    kafka.wait_for_count(DECISIONS_TOPIC, int(total * fraction))
    kafka.kill(worker)
    published = len(kafka.read_topic(DECISIONS_TOPIC, idle=0.2))
    assert published < total, f"the worker had published all {total} decisions before the kill"

    restarted = kafka.start_worker("worker")  # same datadir: the same worker coming back
    kafka.wait_projected(db)
    kafka.assert_running(restarted, projector)
    assert_same_as_embedded(kafka, reference, ["contoso"])


def test_two_workers_one_killed_and_replaced(kafka: Cluster, embedded: Callable[..., Embedded]) -> None:
    tenants = tenants_on_partitions("tenant", [0, 1, 2, 3])  # one tenant per partition: both workers have work
    assert sorted(partition_of(t.encode()) for t in tenants) == [0, 1, 2, 3]
    # ~7,000 events per tenant: several batches per partition, so that the kill lands mid-stream
    streams = [generate_demo_events(seed=seed, users=1500, tenant=t) for seed, t in enumerate(tenants, 1)]
    path = kafka.tmp / "tenants.jsonl"
    write_jsonl(interleave(*streams), path)
    reference = embedded(path)
    total = sum(len(d) for d in reference.decisions().values())
    db = kafka.tmp / "kafka.db"

    projector = kafka.start_projector(db)
    first, second = kafka.start_worker("worker-1"), kafka.start_worker("worker-2")
    kafka.wait_for_group(WORKER_GROUP, members=2)  # 4 partitions shared by two workers before any event exists
    kafka.publish(path)
    kafka.wait_for_count(DECISIONS_TOPIC, total // 2)
    kafka.kill(first)
    assert len(kafka.read_topic(DECISIONS_TOPIC, idle=0.2)) < total, "everything was decided before the kill"

    third = kafka.start_worker("worker-3")
    kafka.wait_projected(db)
    kafka.assert_running(second, third, projector)
    assert_same_as_embedded(kafka, reference, tenants)
