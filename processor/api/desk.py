"""The command desk: the server's one writer to the embedded store.

Every command (a Graph action, a CloudEvents post) becomes input events that are appended to the log and decided at
once by `EmbeddedRuntime.ingest`, exactly as `licensing ingest` would decide the same lines: same core, same outputs,
same ids. All of it runs on one thread that owns the store's connection and the tenant states in memory, so commands
are decided one after the other, in the order they arrived; readers use their own connections (processor.api.reads).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from processor.core.state import TenantState
from processor.embedded import eventlog
from processor.embedded.database import open_database
from processor.embedded.errors import LogAppendedElsewhere
from processor.embedded.runtime import EmbeddedRuntime, IngestSummary

T = TypeVar("T")
Line = tuple[str, bytes]  # (origin, raw event), as `licensing ingest` reads them


class StateUnavailable(LookupError):
    """The decided state is not in this process (the Kafka workers hold it)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A command the core refused synchronously (a CommandRejected decision)."""

    tenant: str
    event_id: str
    type: str
    error: str
    message: str
    detail: dict[str, Any] | None


@dataclass(slots=True)
class Ingested:
    summary: IngestSummary
    rejections: list[Rejection] = field(default_factory=list)  # of the events this call logged, in log order
    retried: set[str] = field(default_factory=set)  # ids of commands logged before: decided then, not again

    def rejection_of(self, event_id: str) -> Rejection | None:
        return next((r for r in self.rejections if r.event_id == event_id), None)


class Desk(Protocol):
    """Where the server's commands go: decided here (CommandDesk), or published for the Kafka workers."""

    def warm_up(self) -> list[str]: ...

    def ingest(self, lines: Iterable[Line]) -> Ingested | None:
        """Decide the lines and say what became of them; None: published, decided elsewhere."""
        ...

    def submit(self, commands: list[tuple[str, str, Line]]) -> Ingested | None:
        """Decide the server's own commands, (tenant, event id, line) each: as `ingest`, but a command whose id is
        logged already is a retry (the same request again, only its `time` newer) and is not logged twice."""
        ...

    def with_state(self, tenant: str, read: Callable[[TenantState], T]) -> T:
        """`read` of the tenant's decided state; raises StateUnavailable where this process has none."""
        ...

    def close(self) -> None: ...


class CommandDesk:
    """Decides commands on a thread of its own; `ingest` and `with_state` may be called from any thread."""

    def __init__(self, database: Path) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="licensing-writer")
        self._database = database
        self._conn: sqlite3.Connection | None = None
        self._runtime: EmbeddedRuntime | None = None
        self._log_end = 0  # the last log seq this desk knows of
        self._run(self._open)

    def _run(self, job: Callable[[], T]) -> T:
        return self._thread.submit(job).result()

    def _open(self) -> None:
        self._conn = open_database(self._database)
        self._fresh_runtime()

    def _fresh_runtime(self) -> EmbeddedRuntime:
        """A runtime that reloads every tenant from its snapshot and the log (tenants not loaded yet stay so)."""
        assert self._conn is not None
        self._runtime = EmbeddedRuntime(self._conn)
        self._log_end = eventlog.last_seq(self._conn)
        return self._runtime

    def _current_runtime(self) -> EmbeddedRuntime:
        """The runtime, renewed if another process appended to the log since (its tenant states would be stale)."""
        assert self._conn is not None and self._runtime is not None
        if eventlog.last_seq(self._conn) != self._log_end:
            return self._fresh_runtime()
        return self._runtime

    def warm_up(self) -> list[str]:
        """Load every tenant's state now, so that the first command of each is not the one that waits for it."""

        def load() -> list[str]:
            assert self._conn is not None
            runtime = self._current_runtime()
            tenants = [tenant for (tenant,) in self._conn.execute("SELECT tenant FROM tenants ORDER BY tenant")]
            for tenant in tenants:
                runtime.tenant(tenant)
            return tenants

        return self._run(load)

    def ingest(self, lines: Iterable[Line]) -> Ingested:
        """Append and decide the lines (malformed ones are dead-lettered, duplicates left out), as `ingest` does."""
        batch = list(lines)
        return self._run(lambda: self._ingest(batch))

    def submit(self, commands: list[tuple[str, str, Line]]) -> Ingested:
        return self._run(lambda: self._submit(commands))

    def _submit(self, commands: list[tuple[str, str, Line]]) -> Ingested:
        """Looked up and ingested in one job of the desk's thread: no command of this server comes in between."""
        assert self._conn is not None
        retried: set[str] = set()
        for tenant in {tenant for tenant, _, _ in commands}:
            ids = [event_id for of, event_id, _ in commands if of == tenant]
            retried |= eventlog.known_ids(self._conn, tenant, ids).keys()
        fresh = [line for _, event_id, line in commands if event_id not in retried]
        ingested = self._ingest(fresh) if fresh else Ingested(IngestSummary())
        ingested.retried = retried
        return ingested

    def _ingest(self, lines: list[Line]) -> Ingested:
        assert self._conn is not None
        runtime = self._current_runtime()
        first = self._log_end + 1
        try:
            summary = runtime.ingest(lines, writer="inline")
        except LogAppendedElsewhere:  # another process committed between the check and this batch: decide again
            runtime = self._fresh_runtime()
            first = self._log_end + 1
            summary = runtime.ingest(lines, writer="inline")
        self._log_end = eventlog.last_seq(self._conn)
        rows = self._conn.execute(
            "SELECT tenant, event_id, type, error, message, detail FROM rejected_commands "
            "WHERE position >= ? ORDER BY position, decision_id",
            (first,),
        ).fetchall()
        rejections = [
            Rejection(tenant, event_id, kind, error, message, json.loads(detail) if detail else None)
            for tenant, event_id, kind, error, message, detail in rows
        ]
        return Ingested(summary, rejections)

    def with_state(self, tenant: str, read: Callable[[TenantState], T]) -> T:
        """`read(state)` of the tenant's decided state, between two commands (it must copy what it keeps)."""
        return self._run(lambda: read(self._current_runtime().tenant(tenant)))

    def close(self) -> None:
        def close_connection() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn, self._runtime = None, None

        self._run(close_connection)
        self._thread.shutdown(wait=True)
