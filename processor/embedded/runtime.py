"""The embedded runtime: an append-only SQLite event log, the decision core, and the read models, without a broker.

One SQLite transaction per batch holds the appended input events, their output events (the decisions log) and the
read-model rows with their positions, so a crash anywhere loses a whole batch or nothing; re-ingesting the file
then appends exactly what is missing (ids already in the log are duplicates). Tenant states are snapshotted with
the log sequence they cover, and rebuilt by replaying the log after that sequence.

Batches past the first are written by a writer process (processor.embedded.writer) while the next one is decided, when
a second CPU can run it.
Speed (bench/README.md): the cyclic garbage collector is paused while deciding and the long-lived tenant state is
frozen out of its reach after every batch; the event and decisions logs are compressed blocks
(processor.embedded.eventlog).
"""

from __future__ import annotations

import gc
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from events import ParseError, parse_event
from events.inputs import InputEvent
from processor.catalog_file import shipped_catalog
from processor.core.catalog import Catalog
from processor.core.decide import STALE, decide_changes, new_tenant
from processor.core.outputs import decode_outputs, encode_output, encode_outputs
from processor.core.state import TenantState
from processor.embedded import eventlog
from processor.embedded.database import SCHEMA_VERSION
from processor.embedded.eventlog import line_digest
from processor.embedded.loglock import LOCK_WAIT, log_lock
from processor.embedded.newids import NewTenantIds
from processor.embedded.writer import STREAM, BatchWriter, DecidedBatch, InlineWriter, ProcessWriter
from processor.statecodec import decode_state, encode_state
from projections.store import ProjectionStore

WriterMode = Literal["auto", "inline", "process"]
# Events per transaction. Read-model rows of a batch land on pages all over their tables, and a commit writes
# every dirtied page to the WAL: fewer commits write them fewer times. With a writer process that cost is off the
# deciding process's path, and a smaller batch shortens the wait for the last one (1,000,000 events: ~20.5 s with
# 100,000, ~21.5 s with 200,000). A crash loses the batch under way and the one being written; re-ingest restores.
BATCH = 100_000
# Lines parsed, checked for duplicates and decided together: their events are decided and freed while in the CPU's
# caches (parsing, deciding and freeing 1,000,000 events: 11.0 s in chunks of 2,000 against 11.7 in 100,000).
CHUNK = 2_000
# A tenant's snapshot is renewed once it is SNAPSHOT_EVERY events behind and that many events are at least
# SNAPSHOT_PER_ENTITY times its users and groups: encoding one is O(tenant size), so this bounds its cost per event
# (a restart replays at most max(SNAPSHOT_EVERY, SNAPSHOT_PER_ENTITY x size) events).
SNAPSHOT_EVERY = 200_000
SNAPSHOT_PER_ENTITY = 10
# When an ingest ends, the next run will rebuild the tenant from its snapshot plus the events after it; replaying an
# event costs more than encoding one user or group does, so a snapshot is renewed once the events behind it are as
# many as the tenant's users and groups. (The 100,000-user tenant of bench/ingest.py after its 1,000,000 events:
# its snapshot encodes in ~1.1 s and loads in ~0.7 s, where re-deciding the events takes ~13 s.)
SNAPSHOT_AT_END_PER_ENTITY = 1


IMPLICIT_SHOWN = 5  # ids of events that created something implicitly, named in the summary
CREATES = frozenset({"UserCreated", "GroupCreated"})  # the events that create a user or group explicitly
_NEW = object()  # not logged, nor earlier in the chunk


def _first_copies(events: list[InputEvent], digests: list[int], ids: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Per tenant, its ids among the events, each with the line digest of its first event (`ids`: per tenant, the
    ids of its events in order)."""
    if len(ids) == 1:  # one tenant: its ids are the events' (in C, as most chunks are)
        ((tenant, of_tenant),) = ids.items()
        first = dict(zip(of_tenant, digests))
        if len(first) == len(of_tenant):
            return {tenant: first}
    copies: dict[str, dict[str, int]] = {tenant: {} for tenant in ids}
    for event, digest in zip(events, digests):
        copies[event.tenant].setdefault(event.id, digest)
    return copies


@dataclass(slots=True)
class IngestSummary:
    accepted: int = 0
    duplicates: int = 0  # the same id with the same line (or one logged before lines had digests)
    stale: int = 0
    dead_lettered: int = 0  # malformed lines and id conflicts
    rejected: int = 0  # accepted commands the core refused (a CommandRejected output)
    id_conflicts: int = 0  # ids logged already with another line: dead-lettered as IdConflict
    implicit: int = 0  # events that created a tenant, user or group implicitly (named before being created)
    implicit_ids: list[str] = field(default_factory=list)  # the first IMPLICIT_SHOWN of them
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (
            f"accepted {self.accepted}, duplicates {self.duplicates}, stale {self.stale}, "
            f"dead-lettered {self.dead_lettered}, rejected {self.rejected}, id conflicts {self.id_conflicts}"
        )
        if self.implicit:
            named = ", ".join(self.implicit_ids) + (", …" if self.implicit > len(self.implicit_ids) else "")
            text += f"; {self.implicit} created a tenant, user or group implicitly ({named})"
        return text


@dataclass(slots=True)
class Parsed:
    """A chunk's well-formed events, their lines and line digests, and per tenant its ids, each with the digest of
    its first line in the chunk."""

    events: list[InputEvent]
    lines: list[bytes]
    digests: list[int]
    by_tenant: dict[str, dict[str, int]]


def decision_rows(conn: sqlite3.Connection, tenant: str | None = None) -> Iterator[tuple[int, str, bytes]]:
    """The decisions log as (event seq, tenant, output event JSON), in log order: the very bytes that the Kafka
    runtime publishes for the same log."""
    for seq, raw, stored in eventlog.decided(conn):
        event = parse_event(raw)
        if tenant is None or event.tenant == tenant:
            for output in decode_outputs(event.id, event.time, event.tenant, stored):
                yield seq, event.tenant, encode_output(output)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system has one, e.g. `taskset`)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off the decided state while deciding.

    A tenant's state is millions of long-lived, acyclic containers; every automatic collection of the oldest
    generation would walk all of them (a third of ingest time on a 100,000-user tenant). Batches call
    `settle_young_objects` after each commit instead.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        settle_young_objects()
        if enabled:
            gc.enable()


def settle_young_objects() -> None:
    """Move everything allocated so far (the state decided by this batch) out of the collector's reach.

    Nothing is collected here: the core builds no reference cycles, and whatever cycle a library makes meanwhile
    is only kept until the process ends (a CLI run) or `gc.unfreeze()`.
    """
    gc.freeze()


class EmbeddedRuntime:
    """Decides the events of a SQLite log and keeps tenant states and read models in step with it."""

    def __init__(self, conn: sqlite3.Connection, catalog: Catalog | None = None) -> None:
        self.conn = conn
        self.catalog = catalog or shipped_catalog()  # what every tenant decides with, plus its own plan additions
        self.projections = ProjectionStore(conn)
        self.tenants: dict[str, TenantState] = {}
        self._covered: dict[str, int] = {}  # tenant -> last log seq folded into its in-memory state
        self._snapshotted: dict[str, int] = {}  # tenant -> log seq its stored snapshot covers
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            self.replay()  # derived tables of an older layout were dropped by open_database
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._log_end = eventlog.last_seq(conn)  # the log's end when the states in memory were last complete

    def _catch_up(self) -> None:
        """Under the log's lock: forget what is in memory if another process has appended since (it is read from
        the snapshots and the log again)."""
        end = eventlog.last_seq(self.conn)
        if end != self._log_end:
            self.tenants.clear()
            self._covered.clear()
            self._snapshotted.clear()
            self.projections = ProjectionStore(self.conn)  # its positions moved on too
            self._log_end = end

    # ---- ingest -------------------------------------------------------------------------------------------

    def ingest(
        self,
        lines: Iterable[tuple[str, bytes]],
        progress: Callable[[int], None] | None = None,
        batch_size: int | None = None,
        writer: WriterMode = "auto",
        lock_wait: float = LOCK_WAIT,
        waiting: Callable[[], None] | None = None,
    ) -> IngestSummary:
        """Append and decide (origin, raw line) pairs; malformed lines go to the dead-letter table.

        One transaction per `batch_size` events (default BATCH): a crash loses at most the batch under way. Past the
        first batch (with writer "auto" and a second CPU), batches are written by a writer process while the next is
        decided. Another ingest or replay of the database is waited for, up to `lock_wait` seconds (then
        IngestRunning); `waiting()` is called once if it has to wait."""
        with log_lock(self.conn, lock_wait, waiting):
            self._catch_up()
            summary = self._ingest(lines, progress, batch_size, writer)
            self._log_end = self._next_seq - 1
            return summary

    def _ingest(
        self,
        lines: Iterable[tuple[str, bytes]],
        progress: Callable[[int], None] | None,
        batch_size: int | None,
        writer: WriterMode,
    ) -> IngestSummary:
        size = batch_size or BATCH
        summary = IngestSummary()
        batch: list[tuple[str, bytes]] = []
        self._next_seq = eventlog.last_seq(self.conn) + 1
        new_ids = NewTenantIds(self.conn)
        sink: BatchWriter | None = None
        try:
            with collector_paused():
                for origin, raw in lines:
                    if len(batch) >= size:  # a full batch and more to come
                        sink = sink or self._writer(writer, more_than_a_batch=True)
                        self._ingest_batch(batch, summary, sink, new_ids)
                        if progress:
                            progress(len(batch))
                        batch = []
                    batch.append((origin, raw))
                sink = sink or self._writer(writer, more_than_a_batch=False)
                self._ingest_batch(batch, summary, sink, new_ids)
                # The next run starts from the snapshots: renew those that replaying would cost more than.
                snapshots = self._snapshots(False, SNAPSHOT_AT_END_PER_ENTITY)
                if snapshots:
                    sink.write(DecidedBatch(snapshots=snapshots))
            sink.close()
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
        finally:
            self._after_writing(sink)
        if progress and batch:
            progress(len(batch))
        return summary

    def _writer(self, mode: WriterMode, more_than_a_batch: bool) -> BatchWriter:
        """ "auto": a writer process for more than a batch, if this process may run on a second CPU (on one, the
        two processes would take turns, and handing batches over would only add to the work)."""
        if mode == "process" or (mode == "auto" and more_than_a_batch and usable_cpus() > 1):
            (path,) = [file for _, name, file in self.conn.execute("PRAGMA database_list") if name == "main"]
            if path:  # not an in-memory database
                return ProcessWriter(path)
        return InlineWriter(self.conn, self.projections)

    def _after_writing(self, sink: BatchWriter | None) -> None:
        if sink is not None and sink.projects:  # another connection wrote the read models: reload their positions
            self.projections = ProjectionStore(self.conn)

    def _ingest_batch(
        self, batch: list[tuple[str, bytes]], summary: IngestSummary, sink: BatchWriter, new_ids: NewTenantIds
    ) -> None:
        """Parse the batch, leave out duplicates, decide what is new, and hand it all to the writer.

        CHUNK lines at a time: their events are decided and freed while still in the CPU's caches."""
        decided = DecidedBatch()
        raws: list[bytes] = []
        tenants: list[str] = []
        outputs: list[bytes] = []
        first = self._next_seq
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            events, lines = self._fresh(chunk, self._parse(chunk, decided, summary), sink, decided, summary, new_ids)
            # A tenant not in memory yet is loaded from the log (every event of it there is committed).
            outputs += self._decide_all(events, first + len(raws), self.tenant, decided, sink.projects, summary)
            raws += lines
            tenants += [event.tenant for event in events]
        decided.blocks = eventlog.framed_blocks(first, raws, outputs)
        decided.tenants = eventlog.block_tenants(first, tenants)
        self._next_seq = first + len(raws)
        decided.snapshots = self._snapshots(False, SNAPSHOT_PER_ENTITY)  # only those due
        if decided.blocks or decided.dead or decided.snapshots:
            sink.write(decided)
        settle_young_objects()

    @staticmethod
    def _parse(chunk: list[tuple[str, bytes]], decided: DecidedBatch, summary: IngestSummary) -> Parsed:
        """The events of the lines; malformed lines go to `decided.dead`."""
        events: list[InputEvent] = []
        lines: list[bytes] = []
        by_tenant: dict[str, list[str]] = {}  # the ids, gathered while each event is fresh in the CPU's cache
        for origin, raw in chunk:
            if not raw.strip():
                continue
            try:
                event = parse_event(raw)
            except ParseError as exc:
                decided.dead.append((hashlib.sha256(raw).hexdigest(), exc.tenant, origin, exc.reason, raw))
                summary.dead_lettered += 1
                if len(summary.reasons) < 5:
                    summary.reasons.append(f"{origin}: {exc.reason}")
                continue
            events.append(event)
            lines.append(raw)
            ids = by_tenant.get(event.tenant)
            if ids is None:
                ids = by_tenant[event.tenant] = []
            ids.append(event.id)
        digests = list(map(line_digest, lines))
        return Parsed(events, lines, digests, _first_copies(events, digests, by_tenant))

    def _fresh(
        self,
        chunk: list[tuple[str, bytes]],
        parsed: Parsed,
        sink: BatchWriter,
        decided: DecidedBatch,
        summary: IngestSummary,
        new_ids: NewTenantIds,
    ) -> tuple[list[InputEvent], list[bytes]]:
        """The events (and their lines) not in the log yet; the first copy wins. The log is what is committed, what
        the writer may not have committed yet, and the earlier chunks of this batch (`decided.ids`, which this adds
        the fresh ids to); for a tenant new to the log, only the ids `new_ids` may have seen are looked up.

        An id logged already is a duplicate if its line is the one logged (or was logged before lines had digests),
        and an id conflict otherwise: the event is dead-lettered with both digests, the logged one stays."""
        known = self._logged_ids(parsed, sink, new_ids, decided.ids)
        repeated = len(parsed.events) > sum(map(len, parsed.by_tenant.values()))  # an id twice within the chunk
        if not known and not repeated:  # most chunks: every event is new
            return parsed.events, parsed.lines
        return self._first_copies_kept(chunk, parsed, known, repeated, decided, summary)

    def _logged_ids(
        self, parsed: Parsed, sink: BatchWriter, new_ids: NewTenantIds, fresh: dict[str, dict[str, int]]
    ) -> dict[str, dict[str, int | None]]:
        """Per tenant with any, the chunk's ids that are logged already, with the digests of their logged lines. The
        ids of a tenant with none logged join `fresh` here; the others' fresh ids are added as they are kept."""
        known: dict[str, dict[str, int | None]] = {}
        for tenant, ids in parsed.by_tenant.items():
            # In this order: a batch committed after the first look is in the database by the second.
            logged: dict[str, int | None] = dict(sink.pending(tenant, ids))
            salt = new_ids.salt(tenant)
            lookup = list(ids) if salt is None else new_ids.maybe_logged(salt, ids)
            if lookup:
                logged.update(eventlog.known_ids(self.conn, tenant, lookup))
            earlier = fresh.get(tenant)
            if earlier:
                for event_id in ids.keys() & earlier.keys():
                    logged[event_id] = earlier[event_id]
            if logged:
                known[tenant] = logged
            elif earlier is None:
                fresh[tenant] = ids
            else:
                earlier.update(ids)
        return known

    def _first_copies_kept(
        self,
        chunk: list[tuple[str, bytes]],
        parsed: Parsed,
        known: dict[str, dict[str, int | None]],
        repeated: bool,
        decided: DecidedBatch,
        summary: IngestSummary,
    ) -> tuple[list[InputEvent], list[bytes]]:
        """The events of the chunk whose id is neither logged (`known`) nor earlier in the chunk; the others are
        counted as duplicates or dead-lettered as id conflicts."""
        fresh = decided.ids
        kept: list[InputEvent] = []
        kept_lines: list[bytes] = []
        first_copies: dict[tuple[str, str], int] = {}  # (tenant, id) -> digest, of the chunk's events kept
        for event, line, digest in zip(parsed.events, parsed.lines, parsed.digests):
            tenant = event.tenant
            logged_of = known.get(tenant)
            if logged_of is None and not repeated:
                kept.append(event)
                kept_lines.append(line)
                continue
            key = (tenant, event.id)
            original = first_copies.get(key, _NEW)
            if original is _NEW and logged_of:
                original = logged_of.get(event.id, _NEW)
            if original is _NEW:
                first_copies[key] = digest
                kept.append(event)
                kept_lines.append(line)
                if logged_of is not None:  # (a tenant without logged ids has all its ids in `fresh` already)
                    fresh.setdefault(tenant, {})[event.id] = digest
            elif original is None or original == digest:
                summary.duplicates += 1
            else:
                self._id_conflict(event, line, original, digest, chunk, decided, summary)  # type: ignore[arg-type]
        return kept, kept_lines

    @staticmethod
    def _id_conflict(
        event: InputEvent,
        line: bytes,
        logged: int,
        digest: int,
        chunk: list[tuple[str, bytes]],
        decided: DecidedBatch,
        summary: IngestSummary,
    ) -> None:
        """Dead-letter an event whose id is logged with another line (IdConflict): nothing is lost, the logged
        event stays as it is and this line is in the dead-letter table."""
        origin = next(origin for origin, raw in chunk if raw is line)
        reason = (
            f"IdConflict: id {event.id!r} is logged with another line (digest {logged:08x}, this line {digest:08x})"
        )
        decided.dead.append((hashlib.sha256(line).hexdigest(), event.tenant, origin, reason, line))
        summary.dead_lettered += 1
        summary.id_conflicts += 1
        if len(summary.reasons) < 5:
            summary.reasons.append(f"{origin}: {reason}")

    def _decide_all(
        self,
        events: Iterable[InputEvent],
        first: int,
        load: Callable[[str], TenantState],
        decided: DecidedBatch,
        projects: bool,
        summary: IngestSummary | None = None,
    ) -> list[bytes]:
        """Decide logged events, seqs from `first` on: their outputs as the decisions log stores them (b"" for
        none). Their read-model changes are staged here, or listed in `decided.projected` for the writer;
        `load(tenant)` gives a tenant not in memory. One loop for a whole batch: this is the ingest's hot path.

        With `summary`: counts what was accepted, stale and rejected, and which events created a tenant, user or
        group implicitly (it has more of them after the event than the event itself creates)."""
        outputs: list[bytes] = []
        keep = outputs.append
        stale = decided.stale
        project = None if projects else self.projections.apply_outputs
        projected = decided.projected.append
        tenants = self.tenants
        covered = self._covered
        accepted = rejected = 0
        implicit: list[str] = []
        last: TenantState | None = None  # the state of the event before, and how many users and groups it had
        entities = 0
        for seq, event in enumerate(events, first):
            tenant_id = event.tenant
            state = tenants.get(tenant_id)
            created = False  # whether the event creates something implicitly
            if state is None:
                state = load(tenant_id)
                created = not state.seq and event.type != "TenantConfigured"  # a new tenant, not configured first
            if state is not last:
                last, entities = state, len(state.users) + len(state.groups)
            status, changes = decide_changes(state, event)
            covered[tenant_id] = seq
            if status == STALE:
                stale.append(seq)
                keep(b"")
                continue
            accepted += 1
            grown = len(state.users) + len(state.groups) - entities
            if grown:
                entities += grown
                created = created or grown > (event.type in CREATES)
            if created:
                implicit.append(event.id)
            if not changes:
                keep(b"")
                continue
            if changes[-1][0] == "CommandRejected":  # (a refused command stops there: it is the last output)
                rejected += 1
            keep(encode_outputs(changes))
            if project is None:
                projected((seq, event.id, event.time, tenant_id))
            else:
                project(changes, STREAM, seq, event.id, event.time, tenant_id)
        if summary is not None:
            summary.accepted += accepted
            summary.stale += len(outputs) - accepted
            summary.rejected += rejected
            summary.implicit += len(implicit)
            summary.implicit_ids += implicit[: IMPLICIT_SHOWN - len(summary.implicit_ids)]
        return outputs

    # ---- tenant states ------------------------------------------------------------------------------------

    def tenant(self, tenant_id: str) -> TenantState:
        """The tenant's state at the end of the log: snapshot plus the events logged after it."""
        state = self.tenants.get(tenant_id)
        if state is not None:
            return state
        row = self.conn.execute("SELECT event_seq, state FROM snapshots WHERE tenant = ?", (tenant_id,)).fetchone()
        snapshot = decode_state(row[1], self.catalog) if row else None
        if snapshot is not None:
            state, covered = snapshot, row[0]
        else:  # none yet, or of another version (state classes, catalogue): the log has everything
            state, covered = new_tenant(tenant_id, self.catalog), 0
        self._snapshotted[tenant_id] = covered
        for seq, raw in eventlog.lines(self.conn, after=covered, tenant=tenant_id):  # the tenant's blocks only
            event = parse_event(raw)
            if event.tenant == tenant_id:
                decide_changes(state, event)
                covered = seq
        self.tenants[tenant_id] = state
        self._covered[tenant_id] = covered
        return state

    def _new_tenant(self, tenant_id: str) -> TenantState:
        state = self.tenants[tenant_id] = new_tenant(tenant_id, self.catalog)
        return state

    def _snapshots(self, force: bool, per_entity: float) -> list[tuple[str, int, bytes]]:
        """The snapshots rows due (see SNAPSHOT_EVERY): at least SNAPSHOT_EVERY events behind, and at least
        `per_entity` times the tenant's users and groups; `force`: every tenant's."""
        rows = []
        for tenant_id, state in self.tenants.items():
            covered = self._covered.get(tenant_id, 0)
            behind = covered - self._snapshotted.get(tenant_id, 0)
            due = behind >= SNAPSHOT_EVERY and behind >= per_entity * (len(state.users) + len(state.groups))
            if force or due:
                rows.append((tenant_id, covered, encode_state(state, self.catalog)))
                self._snapshotted[tenant_id] = covered
        return rows

    # ---- rebuild ------------------------------------------------------------------------------------------

    def replay(
        self,
        progress: Callable[[int], None] | None = None,
        writer: WriterMode = "auto",
        lock_wait: float = LOCK_WAIT,
        waiting: Callable[[], None] | None = None,
    ) -> int:
        """Throw away every derived thing (states, decisions, read models) and rebuild it from the event log, in one
        transaction. A log of more than a batch is written by a writer process while the next batch is decided.

        NoEventLog for a database with read models and no log (a Kafka projector's): it is left as it is. Waits for
        an ingest under way as `ingest` does."""
        with log_lock(self.conn, lock_wait, waiting):
            count = self._replay(progress, writer)
            self._log_end = eventlog.last_seq(self.conn)
            return count

    def _replay(self, progress: Callable[[int], None] | None, writer: WriterMode) -> int:
        eventlog.require_event_log(self.conn)
        sink = self._writer(writer, more_than_a_batch=eventlog.count(self.conn) > BATCH)
        self.tenants.clear()
        self._covered.clear()
        self._snapshotted.clear()
        count = 0
        try:
            sink.write(DecidedBatch(reset=True, commit=False))
            decided = DecidedBatch(commit=False)
            pending = 0
            with collector_paused():
                for first, raw_lines in eventlog.blocks(self.conn):
                    events = [parse_event(raw) for raw in raw_lines]
                    outputs = self._decide_all(events, first, self._new_tenant, decided, sink.projects)
                    decided.blocks.append((first, len(outputs), None, eventlog.frame(outputs)))
                    count += len(raw_lines)
                    pending += len(raw_lines)
                    if pending >= BATCH:  # bound what is staged
                        sink.write(decided)
                        decided = DecidedBatch(commit=False)
                        settle_young_objects()
                        if progress:
                            progress(pending)
                        pending = 0
                decided.snapshots = self._snapshots(True, SNAPSHOT_PER_ENTITY)
                decided.commit = True
                sink.write(decided)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        finally:
            self._after_writing(sink)
        if progress and pending:
            progress(pending)
        return count
