"""Writing decided batches to the database: in the deciding process, or in a writer process beside it.

A batch is written in one transaction (or, for a replay, in the one transaction of the whole replay): its new log
blocks and their ids, the decisions, stale marks and dead letters, the read-model rows and positions, and the
snapshots due. The deciding process only reads the database; with a writer process, SQLite's work on batch N (the
read-model upserts, compressing blocks, committing: about a third of an ingest, bench/README.md) runs on a second
core while batch N + 1 is parsed and decided. What is committed is the same either way, byte for byte.

A crash of either process loses the batch not yet committed and nothing else; the next ingest appends it again.

Handing a batch over (~50 MB for 100,000 events) costs the deciding process one copy: its bulky parts go to a file
the two processes share (in memory where the system has memfd), only a small header goes through the pipe. Pickling
the batch and pushing it through the pipe cost ~10 times that, on the critical path (bench/README.md).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
import traceback
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from pickle import PickleBuffer
from typing import Protocol

import orjson

from processor.embedded import eventlog
from processor.embedded.database import open_database
from processor.embedded.errors import LogAppendedElsewhere, StoreError, WriterFailed
from projections.store import ProjectionStore

# The directory holding the `processor` package this module is part of: the writer process imports the same code
# from there (before it is on the path as installed, if it is).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
STREAM = "embedded"  # the read models' position stream of the embedded log (positions are log seqs)


@dataclass(slots=True)
class DecidedBatch:
    blocks: list[eventlog.Block] = field(default_factory=list)  # the events' lines (if new) and outputs, framed
    # tenant -> id -> line digest of the events logged by this batch
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    tenants: list[tuple[str, int]] = field(default_factory=list)  # block_tenants rows of the new blocks
    stale: list[int] = field(default_factory=list)  # seqs of logged events the core found stale
    dead: list[tuple[str, str | None, str, str, bytes]] = field(default_factory=list)  # dead_letters rows
    # (seq, event id, time, tenant) of the events whose outputs (in `blocks`) the writer applies to the read models,
    # in seq order; empty when the deciding process applied them itself
    projected: list[tuple[int, str, str, str]] = field(default_factory=list)
    snapshots: list[tuple[str, int, bytes]] = field(default_factory=list)  # (tenant, event seq, state)
    reset: bool = False  # a replay's first batch: drop everything derived from the log first
    commit: bool = True  # False: the transaction goes on (a replay commits with its last batch)


def write_batch(conn: sqlite3.Connection, store: ProjectionStore, batch: DecidedBatch) -> None:
    """Write the batch in the open transaction, or in a new one taken with the write lock up front."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    try:
        if batch.reset:
            for table in (*eventlog.DERIVED_TABLES, "snapshots"):
                conn.execute(f"DELETE FROM {table}")
            store.reset()
        if batch.dead:  # the same bad line ingested again is recorded once
            conn.executemany(
                "INSERT OR IGNORE INTO dead_letters (digest, tenant, origin, reason, body) VALUES (?, ?, ?, ?, ?)",
                batch.dead,
            )
        new = [block for block in batch.blocks if block[2] is not None]
        if new and new[0][0] != eventlog.last_seq(conn) + 1:
            raise LogAppendedElsewhere(f"the log ends at {eventlog.last_seq(conn)}, this batch starts at {new[0][0]}")
        for tenant, ids in batch.ids.items():
            eventlog.record_ids(conn, tenant, ids)
        eventlog.write_blocks(conn, batch.blocks, batch.tenants)
        if batch.stale:
            conn.executemany("INSERT INTO stale_events (seq) VALUES (?)", [(seq,) for seq in batch.stale])
        _project(store, batch)
        store.flush()
        if batch.snapshots:
            conn.executemany(
                "INSERT OR REPLACE INTO snapshots (tenant, event_seq, state) VALUES (?, ?, ?)", batch.snapshots
            )
        if batch.commit:
            conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _project(store: ProjectionStore, batch: DecidedBatch) -> None:
    """Stage the read-model changes of the outputs of `batch.projected`, found in the batch's blocks."""
    projected, at = batch.projected, 0
    for first, count, _, framed in batch.blocks:
        if at == len(projected):
            return
        if projected[at][0] >= first + count:
            continue
        outputs = eventlog.unframe(framed)
        while at < len(projected) and projected[at][0] < first + count:
            seq, event_id, time, tenant = projected[at]
            store.apply_outputs(orjson.loads(outputs[seq - first]), STREAM, seq, event_id, time, tenant)
            at += 1


class BatchWriter(Protocol):
    projects: bool  # True: the writer applies outputs to the read models (batches carry `projected`)

    def write(self, batch: DecidedBatch) -> None:
        """Write the batch."""
        ...

    def pending(self, tenant: str, ids: Iterable[str]) -> dict[str, int]:
        """Those of the tenant's `ids` written by batches that may not be committed yet, with their line digests."""
        ...

    def close(self) -> None:
        """Return once everything written is committed (raises what went wrong)."""
        ...

    def abort(self) -> None:
        """Give up: what is not committed yet is dropped."""
        ...


class InlineWriter:
    """Writes in the deciding process, on its connection; the deciding process applies outputs itself."""

    projects = False

    def __init__(self, conn: sqlite3.Connection, store: ProjectionStore) -> None:
        self.conn, self.store = conn, store

    def write(self, batch: DecidedBatch) -> None:
        write_batch(self.conn, self.store, batch)

    def pending(self, tenant: str, ids: Iterable[str]) -> dict[str, int]:
        return {}

    def close(self) -> None:
        return None

    def abort(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class ProcessWriter:
    """Writes in a child process with its own connection, one batch behind the deciding process.

    At most one batch is in flight: `write` first waits until the batch before is written, so the deciding
    process runs ahead by one batch and the ids of that batch are all it has to keep in mind (the database
    tells it about every committed one).
    """

    projects = True

    def __init__(self, path: str) -> None:
        # A fresh interpreter, not multiprocessing's spawn: that one re-runs the caller's main script, which a
        # script without a __main__ guard does not survive. The log's block size goes along (a test may set it).
        self._pipe, child = multiprocessing.Pipe()
        self._shared = _shared_file()
        package_root = str(PACKAGE_ROOT)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", "from processor.embedded.writer import main; main()"]
                + [path, str(eventlog.BLOCK), str(child.fileno()), str(self._shared)],
                pass_fds=[child.fileno(), self._shared],
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            os.close(self._shared)
            raise
        finally:
            child.close()
        self._unconfirmed: deque[dict[str, dict[str, int]]] = deque()  # the ids of batches not yet committed

    def write(self, batch: DecidedBatch) -> None:
        while self._unconfirmed:  # the writer has read the batch before: the shared file is free
            self._confirm()
        self._pipe.send_bytes(_send(self._shared, batch))
        self._unconfirmed.append(batch.ids)

    def pending(self, tenant: str, ids: Iterable[str]) -> dict[str, int]:
        while self._unconfirmed and self._pipe.poll():
            self._confirm()
        found: dict[str, int] = {}
        for written in self._unconfirmed:
            of_tenant = written.get(tenant)
            if of_tenant:
                for event_id in of_tenant.keys() & ids:
                    found[event_id] = of_tenant[event_id]
        return found

    def close(self) -> None:
        try:
            while self._unconfirmed:
                self._confirm()
        finally:
            self._stop()

    def abort(self) -> None:
        self._stop()

    def _confirm(self) -> None:
        try:
            answer = self._pipe.recv()
        except EOFError:
            raise WriterFailed(f"the writer process died (exit code {self._process.wait()})") from None
        if isinstance(answer, StoreError):  # what the user is told, as if this process had written
            raise answer
        if answer is not None:
            raise WriterFailed(f"the writer process failed: {answer.splitlines()[-1]}", answer)
        self._unconfirmed.popleft()

    def _stop(self) -> None:
        self._pipe.close()  # the writer rolls back what it has not committed and exits
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # pragma: no cover - a writer stuck in SQLite
            self._process.kill()
            self._process.wait()
        finally:
            if self._shared >= 0:  # (an abort after a failed close stops again)
                os.close(self._shared)
                self._shared = -1


# ---- handing batches over ---------------------------------------------------------------------------------------


def _shared_file() -> int:
    """A file descriptor for the batches' bulky parts: an anonymous in-memory file, or an unlinked temporary one."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("licensing-batch", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as file:  # closing the object leaves the duplicate open
        return os.dup(file.fileno())


def _send(shared: int, batch: DecidedBatch) -> bytes:
    """Write the batch's bulky parts to the shared file (from offset 0) and return the pipe message for the rest.

    Pickle's out-of-band buffers (protocol 5) mark the bulky parts: the framed blocks and snapshots as they are,
    and the lists of small strings (ids, projected events) as one JSON text each, which orjson writes ~8x faster
    than pickle writes the strings.
    """
    wire = (
        [
            (seq, n, None if lines is None else PickleBuffer(lines), PickleBuffer(out))
            for seq, n, lines, out in batch.blocks
        ],
        {tenant: PickleBuffer(orjson.dumps(ids)) for tenant, ids in batch.ids.items()},
        PickleBuffer(orjson.dumps(batch.tenants)),
        PickleBuffer(orjson.dumps(batch.projected)),
        [(tenant, seq, PickleBuffer(state)) for tenant, seq, state in batch.snapshots],
        batch.stale,
        batch.dead,
        batch.reset,
        batch.commit,
    )
    buffers: list[PickleBuffer] = []
    header = pickle.dumps(wire, pickle.HIGHEST_PROTOCOL, buffer_callback=buffers.append)
    lengths = []
    offset = 0
    for buffer in buffers:
        view = buffer.raw()
        lengths.append(len(view))
        while view:  # a write may stop short of a large buffer
            written = os.pwrite(shared, view, offset)
            offset += written
            view = view[written:]
    return pickle.dumps((header, lengths), pickle.HIGHEST_PROTOCOL)


def _receive(shared: int, message: bytes) -> DecidedBatch:
    """The batch `_send` made `message` of, its bulky parts read back from the shared file."""
    header, lengths = pickle.loads(message)
    buffers = []
    offset = 0
    for length in lengths:
        chunks = []
        end = offset + length
        while offset < end:
            chunk = os.pread(shared, end - offset, offset)
            if not chunk:
                raise EOFError("the shared file ends before the batch does")
            chunks.append(chunk)
            offset += len(chunk)
        buffers.append(chunks[0] if len(chunks) == 1 else b"".join(chunks))  # (none: an empty buffer)
    blocks, ids, tenants, projected, snapshots, stale, dead, reset, commit = pickle.loads(header, buffers=buffers)
    return DecidedBatch(
        blocks=blocks,
        ids={tenant: orjson.loads(of) for tenant, of in ids.items()},
        tenants=orjson.loads(tenants),  # lists of [tenant, first seq]: written as the tuples are
        projected=orjson.loads(projected),  # lists of [seq, id, time, tenant]: unpacked as the tuples are
        snapshots=snapshots,
        stale=stale,
        dead=dead,
        reset=reset,
        commit=commit,
    )


def main() -> None:
    """Entry point of the writer process: database path, log block size, the pipe's and the shared file's fds."""
    path, block, pipe_fd, shared_fd = sys.argv[1:5]
    _serve(path, Connection(int(pipe_fd)), int(block), int(shared_fd))


def _serve(path: str, pipe: Connection, block: int, shared: int) -> None:
    """The writer process: write each batch received, answer None once written (or the error), until EOF."""
    eventlog.BLOCK = block
    gc.disable()  # the batches build no reference cycles; their rows are freed by reference counting
    conn = open_database(path)
    store = ProjectionStore(conn)
    while True:
        try:
            message = pipe.recv_bytes()
        except (EOFError, OSError):
            break  # the deciding process is done (or gone): an uncommitted transaction is rolled back on close
        try:
            write_batch(conn, store, _receive(shared, message))
        except StoreError as exc:
            pipe.send(exc)
            break
        except BaseException:
            pipe.send(traceback.format_exc())
            break
        pipe.send(None)
    conn.close()
