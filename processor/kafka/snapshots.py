"""Per-partition snapshots in the worker's data directory: a partition's state and the offset it covers.

One file per input partition (`licensing.events-<p>.snapshot`), so workers that share a directory (the two replicas
of docker-compose.yml share one volume) never write each other's files: only the owner of a partition writes its
snapshot, and a worker that takes the partition over reads it. Files are replaced atomically (a temporary file of
this process, then rename), so a reader sees a whole snapshot or the previous one.

The format runs no code when read: MessagePack (msgspec, typed) around the state codec's tenant blobs. A snapshot
of another format, or holding a tenant the codec cannot decode into the current state classes and catalogue, is
ignored: the partition is rebuilt from the log instead of being loaded into the wrong shape.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import msgspec

from processor.catalog_file import shipped_catalog
from processor.kafka import EVENTS_TOPIC
from processor.kafka.partition import PartitionState, RecentIds
from processor.statecodec import decode_state, encode_state

MAGIC = b"licensing-partition-snapshot/1\n"


class _Snapshot(msgspec.Struct, frozen=True):
    topic: str
    partition: int
    next_offset: int
    window: int  # capacity of the id window
    recent: list[int]  # its digests, oldest first
    tenants: dict[str, bytes]  # tenant id -> the state codec's blob


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Snapshot)


@dataclass(frozen=True, slots=True)
class Loaded:
    state: PartitionState
    size: int  # bytes read


def snapshot_path(directory: Path, partition: int) -> Path:
    return directory / f"{EVENTS_TOPIC}-{partition}.snapshot"


def encode_snapshot(partition: int, state: PartitionState) -> bytes:
    """The partition's state as snapshot bytes (O(tenants' size)); taken between two batches."""
    snapshot = _Snapshot(
        topic=EVENTS_TOPIC,
        partition=partition,
        next_offset=state.next_offset,
        window=state.recent.capacity,
        recent=state.recent.digests(),
        tenants={tenant_id: encode_state(tenant) for tenant_id, tenant in state.tenants.items()},
    )
    return MAGIC + _encoder.encode(snapshot)


def decode_snapshot(blob: bytes, partition: int, window: int) -> PartitionState | None:
    """The state in a snapshot, or None if it is not one this version can use (rebuild from the log then)."""
    if not blob.startswith(MAGIC):
        return None
    try:
        snapshot = _decoder.decode(memoryview(blob)[len(MAGIC) :])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if snapshot.topic != EVENTS_TOPIC or snapshot.partition != partition:
        return None
    tenants = {}
    catalog = shipped_catalog()
    for tenant_id, tenant_blob in snapshot.tenants.items():
        tenant = decode_state(tenant_blob, catalog)
        if tenant is None:
            return None  # written by another version of the state classes or catalogue
        tenants[tenant_id] = tenant
    # A window of another size keeps its newest ids (a smaller one) or grows from them (a larger one).
    recent = RecentIds(window, snapshot.recent[-window:])
    return PartitionState(next_offset=snapshot.next_offset, tenants=tenants, recent=recent)


def write_snapshot(directory: Path, partition: int, blob: bytes) -> None:
    """Replace the partition's snapshot file atomically and durably (fsync of the file and of the directory)."""
    directory.mkdir(parents=True, exist_ok=True)
    final = snapshot_path(directory, partition)
    temporary = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_snapshot(directory: Path, partition: int, window: int) -> Loaded | None:
    """The partition's latest usable snapshot, or None (none written yet, or not usable by this version)."""
    try:
        blob = snapshot_path(directory, partition).read_bytes()
    except FileNotFoundError:
        return None
    state = decode_snapshot(blob, partition, window)
    return Loaded(state, len(blob)) if state is not None else None
