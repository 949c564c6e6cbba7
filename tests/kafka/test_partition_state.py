"""A Kafka worker's partition state without a broker: the bounded id window, and snapshots that restore a partition
exactly (states, next offset, window) or, when written by another version, are not loaded at all."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import msgspec

from processor.demo.generator import generate_demo_events
from processor.kafka.deciders import DRAIN_EVERY, PartitionDeciders
from processor.kafka.partition import DecidedBatch, PartitionState, RecentIds, decide_into, fold_in, id_digest
from processor.kafka.snapshots import (
    MAGIC,
    _Snapshot,
    decode_snapshot,
    encode_snapshot,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)

PARTITION = 1


def demo_lines(users: int = 300) -> list[bytes]:
    return [json.dumps(event, separators=(",", ":")).encode() for event in generate_demo_events(users=users)]


def decide_all(state: PartitionState, lines: list[bytes], first_offset: int) -> DecidedBatch:
    out = DecidedBatch()
    for n, raw in enumerate(lines):
        decide_into(state, raw, b"contoso", PARTITION, first_offset + n, out)
    return out


def test_the_id_window_forgets_the_oldest_ids_beyond_its_capacity() -> None:
    window = RecentIds(capacity=3)
    assert [window.add(d) for d in (1, 2, 3, 2)] == [True, True, True, False]  # 2 again: a duplicate
    assert window.add(4) and len(window) == 3  # 1 forgotten
    assert window.digests() == [2, 3, 4]
    assert window.add(1)  # forgotten, so new again
    assert not window.add(4)


def test_a_partition_remembers_a_bounded_number_of_ids_however_long_its_history() -> None:
    lines = demo_lines()
    state = PartitionState(recent=RecentIds(capacity=100))
    decide_all(state, lines, 0)
    assert len(lines) > 1000 and len(state.recent) == 100


def test_an_event_sent_twice_within_the_window_is_applied_once() -> None:
    lines = demo_lines()
    once, twice = PartitionState(), PartitionState()
    expected = decide_all(once, lines, 0)
    resent = lines[:500] + lines[200:300] + lines[500:]  # 100 events published again, at new offsets
    got = decide_all(twice, resent, 0)
    assert got.decisions == expected.decisions
    assert twice.next_offset == len(resent)


def test_a_partition_restored_from_its_snapshot_decides_the_rest_of_the_log_as_the_original() -> None:
    lines = demo_lines()
    half = len(lines) // 2
    original = PartitionState()
    decide_all(original, lines[:half], 0)
    restored = decode_snapshot(encode_snapshot(PARTITION, original), PARTITION, window=original.recent.capacity)
    assert restored is not None
    assert restored.next_offset == half and restored.recent.digests() == original.recent.digests()
    # the rest of the log, with events of the first half sent again: the window must know them
    rest = lines[half - 50 : half] + lines[half:]
    assert decide_all(restored, rest, half).decisions == decide_all(original, rest, half).decisions
    assert restored.entities() == original.entities()


class Record(NamedTuple):  # what the consumer hands the worker: the fields it reads
    offset: int
    key: bytes
    value: bytes


def test_a_batchs_outputs_are_moved_on_every_few_hundred_events_not_held_to_its_end(tmp_path: Path) -> None:
    lines = demo_lines()
    deciders = PartitionDeciders("127.0.0.1:9", tmp_path)  # no broker: the partition is live, nothing to recover
    deciders.partitions[PARTITION] = PartitionState()
    deciders.live.add(PARTITION)
    out = DecidedBatch()
    moved: list[object] = []
    held: list[tuple[int, int]] = []  # at each move: (events decided since the previous one, outputs held)

    def drain() -> None:
        held.append((out.events - sum(n for n, _ in held), len(out.decisions)))
        moved.extend(out.decisions)
        out.decisions.clear()

    records = [Record(n, b"contoso", raw) for n, raw in enumerate(lines)]
    next_offset = asyncio.run(deciders.decide(PARTITION, records, out, drain))
    assert next_offset == len(lines) > 4 * DRAIN_EVERY
    assert len(held) == -(-len(lines) // DRAIN_EVERY) and max(n for n, _ in held) == DRAIN_EVERY
    assert moved == decide_all(PartitionState(), lines, 0).decisions  # every output, in order


def test_a_rebuild_that_folds_messages_in_silently_reaches_the_same_state_as_deciding_them() -> None:
    lines = demo_lines()
    half = len(lines) // 2
    decided, folded = PartitionState(), PartitionState()
    decide_all(decided, lines[:half], 0)
    for n, raw in enumerate(lines[:half]):
        fold_in(folded, raw, n)
    assert encode_snapshot(PARTITION, folded) == encode_snapshot(PARTITION, decided)
    assert decide_all(folded, lines[half:], half).decisions == decide_all(decided, lines[half:], half).decisions


def test_a_snapshot_of_another_version_of_the_state_classes_is_not_loaded(tmp_path: Path) -> None:
    state = PartitionState()
    decide_all(state, demo_lines(), 0)
    blob = encode_snapshot(PARTITION, state)
    assert decode_snapshot(blob, PARTITION, window=100) is not None

    snapshot = msgspec.msgpack.decode(blob[len(MAGIC) :], type=_Snapshot)
    tenant_blob = snapshot.tenants["contoso"]
    other_version = bytes([tenant_blob[0] ^ 0xFF]) + tenant_blob[1:]  # the codec's version digest differs
    older = MAGIC + msgspec.msgpack.encode(msgspec.structs.replace(snapshot, tenants={"contoso": other_version}))
    assert decode_snapshot(older, PARTITION, window=100) is None

    assert decode_snapshot(b"licensing-partition-snapshot/0\n" + blob[len(MAGIC) :], PARTITION, 100) is None
    assert decode_snapshot(blob[: len(blob) // 2], PARTITION, window=100) is None  # cut short
    assert decode_snapshot(blob, PARTITION + 1, window=100) is None  # another partition's
    write_snapshot(tmp_path, PARTITION, older)
    assert read_snapshot(tmp_path, PARTITION, window=100) is None
    assert snapshot_path(tmp_path, PARTITION).exists()


def test_snapshot_files_are_per_partition_and_replaced_whole(tmp_path: Path) -> None:
    state = PartitionState()
    decide_all(state, demo_lines()[:100], 0)
    write_snapshot(tmp_path, 0, encode_snapshot(0, state))
    decide_all(state, demo_lines()[100:200], 100)
    write_snapshot(tmp_path, 1, encode_snapshot(1, state))
    zero, one = read_snapshot(tmp_path, 0, 100), read_snapshot(tmp_path, 1, 100)
    assert zero is not None and one is not None
    assert (zero.state.next_offset, one.state.next_offset) == (100, 200)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["licensing.events-0.snapshot", "licensing.events-1.snapshot"]
    assert read_snapshot(tmp_path, 2, 100) is None


def test_id_digests_are_the_same_in_another_process_and_differ_per_tenant() -> None:
    # a snapshot's window is read by another process: hash() would differ there (PYTHONHASHSEED)
    script = "from processor.kafka.partition import id_digest; print(id_digest('contoso', 'e1'))"
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True)
    assert int(other.stdout) == id_digest("contoso", "e1")
    assert id_digest("contoso", "e1") != id_digest("fabrikam", "e1")
    assert 0 <= id_digest("contoso", "e1") < 2**64
