"""The projector killed with SIGKILL mid-stream and restarted: its rows and positions are committed in one SQLite
transaction, so nothing is lost and nothing is applied twice — the read models equal the embedded ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from processor.demo.generator import generate_demo_events, write_jsonl
from processor.kafka import DECISIONS_TOPIC
from tests.kafka.conftest import Cluster, Embedded, assert_same_as_embedded, table_counts


def wait_for_progress(kafka: Cluster, db: Path, beyond: int, timeout: float = 60.0) -> int:
    """Poll (every 5 ms) until the projector has committed a position beyond `beyond`; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        position = max(kafka.projected(db).values(), default=-1)
        if position > beyond:
            return position
        assert time.monotonic() < deadline, f"the projector did not get beyond {beyond} in {timeout:g} s"
        time.sleep(0.005)


def test_projector_killed_mid_stream_and_restarted(kafka: Cluster, embedded: Callable[..., Embedded]) -> None:
    path = kafka.tmp / "demo.jsonl"
    write_jsonl(generate_demo_events(users=6000), path)  # decisions span several 20,000-decision transactions
    reference = embedded(path)
    total = len(reference.decisions()["contoso"])
    db = kafka.tmp / "kafka.db"

    kafka.publish(path)
    worker = kafka.start_worker()
    first = kafka.start_projector(db, name="projector-1")
    kafka.wait_for_count(DECISIONS_TOPIC, total // 3)
    kafka.kill(first)  # while the worker is still publishing
    at_first_kill = max(kafka.projected(db).values(), default=-1)
    assert at_first_kill < total - 1, "everything was projected before the first kill"

    # the restarted projector catches up in batches, one transaction each: kill it after its first commit
    second = kafka.start_projector(db, name="projector-2")
    at_second_kill = wait_for_progress(kafka, db, at_first_kill)
    kafka.kill(second)
    assert max(kafka.projected(db).values()) < total - 1, "everything was projected before the second kill"

    third = kafka.start_projector(db, name="projector-3")
    kafka.wait_projected(db)
    kafka.assert_running(worker, third)
    assert at_first_kill < at_second_kill
    assert_same_as_embedded(kafka, reference, ["contoso"])  # every read-model row, none lost, none doubled
    for table in ("rejected_commands", "audit_log"):
        assert table_counts(db, table) == table_counts(reference.db, table) != {}
