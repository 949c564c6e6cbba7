"""Bounded recovery against the dev broker: a rebuild stops at the end of what a partition holds, and a worker killed
after a snapshot resumes from it and reads only the tail after it (one of another version: from the log); either
way the decisions and the export are the embedded ones."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from processor.demo.generator import generate_demo_events, write_jsonl
from processor.kafka import EVENTS_TOPIC, WORKER_GROUP
from processor.kafka.admin import committed_offsets
from processor.kafka.partition import PartitionState
from processor.kafka.recovery import read_up_to
from processor.kafka.snapshots import MAGIC, _Snapshot, snapshot_path
from tests.kafka.conftest import Cluster, Embedded, Process, assert_same_as_embedded, partition_of


def log_lines(process: Process, message: str) -> list[dict[str, Any]]:
    """The worker's JSON log lines with this message."""
    found = []
    for line in process.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("message") == message:
                found.append(entry)
    return found


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {timeout:g} s"
        time.sleep(0.05)


def test_a_rebuild_stops_at_the_end_of_what_the_partition_holds(kafka: Cluster) -> None:
    """Asked to read up to an offset the partition does not hold (a compacted tail, a retention cut, markers), the
    rebuild ends at the partition's end instead of waiting for that offset forever."""
    lines = [
        json.dumps({"specversion": "1.0", "id": f"e{n}", "source": "/t", "type": "UserCreated",
                    "time": "2026-01-05T10:00:00Z", "tenant": "contoso", "data": {"userId": f"u{n}"}}).encode()
        for n in range(30)
    ]  # fmt: skip
    kafka.produce([(b"contoso", line) for line in lines])
    state = PartitionState()
    read = asyncio.run(asyncio.wait_for(read_up_to(kafka.bootstrap, partition_of(b"contoso"), state, 1000), 30))
    assert (read, state.next_offset) == (30, 30)
    assert sorted(state.tenants["contoso"].users) == sorted(f"u{n}" for n in range(30))


def other_version(path: Path) -> None:
    """Rewrite a snapshot file as one whose tenant states another version of the state classes wrote."""
    blob = path.read_bytes()
    snapshot = msgspec.msgpack.decode(blob[len(MAGIC) :], type=_Snapshot)
    tenants = {tenant: bytes([state[0] ^ 0xFF]) + state[1:] for tenant, state in snapshot.tenants.items()}
    path.write_bytes(MAGIC + msgspec.msgpack.encode(msgspec.structs.replace(snapshot, tenants=tenants)))


@pytest.mark.parametrize("snapshot", ["usable", "another version"])
def test_a_worker_killed_after_a_snapshot_resumes_from_it(
    snapshot: str, kafka: Cluster, embedded: Callable[..., Embedded]
) -> None:
    events = generate_demo_events(users=5000)
    path, first_part = kafka.tmp / "demo.jsonl", kafka.tmp / "first.jsonl"
    write_jsonl(events, path)
    cut, held_back = len(events) * 2 // 5, len(events) - 100
    write_jsonl(events[:cut], first_part)
    write_jsonl(events[cut:held_back], kafka.tmp / "rest.jsonl")
    write_jsonl(events[held_back:], kafka.tmp / "last.jsonl")  # published after the kill: the restart has work
    reference = embedded(path)
    partition = partition_of(b"contoso")
    db = kafka.tmp / "kafka.db"

    projector = kafka.start_projector(db)
    worker = kafka.start_worker("worker", datadir="datadir")
    kafka.publish(first_part)
    kafka.wait_projected(db)
    # idle for a moment, the worker snapshots what it has decided
    wait_for(lambda: any(e["offset"] == cut for e in log_lines(worker, "snapshot written")), "no snapshot at the cut")

    kafka.publish(kafka.tmp / "rest.jsonl")

    def committed_past_the_snapshot() -> bool:
        committed = asyncio.run(committed_offsets(kafka.bootstrap, WORKER_GROUP, EVENTS_TOPIC)).get(partition, 0)
        return committed > cut + 1000

    wait_for(committed_past_the_snapshot, "the worker committed nothing past the snapshot")
    kafka.kill(worker)
    kafka.publish(kafka.tmp / "last.jsonl")
    if snapshot == "another version":
        other_version(snapshot_path(kafka.tmp / "datadir" / "snapshots", partition))

    restarted = kafka.start_worker("worker-restarted", datadir="datadir")
    kafka.wait_projected(db)
    kafka.assert_running(restarted, projector)
    assert_same_as_embedded(kafka, reference, ["contoso"])

    (recovered,) = [e for e in log_lines(restarted, "partition recovered") if e["partition"] == partition]
    assert recovered["to_offset"] > cut + 1000  # the committed offset the restarted worker was redelivered from
    if snapshot == "usable":
        assert (recovered["start"], recovered["from_offset"]) == ("snapshot", cut)
        assert recovered["tail"] == recovered["to_offset"] - cut  # only the messages after the snapshot
    else:
        assert (recovered["start"], recovered["from_offset"]) == ("log", 0)
        assert recovered["tail"] == recovered["to_offset"]
