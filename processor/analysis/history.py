"""A tenant's history: its events re-decided from the log with the core, for the tools that need to know which
event brought each fact about (explain, timeline, the new-plans report, alerts).

Re-deciding gives exactly the outputs the runtime logged (the core is deterministic) along with the input event that
caused each one, and the state before and after every event, without reading any runtime's internals.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Protocol

from events import parse_event
from events.inputs import InputEvent
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant
from processor.core.outputs import Output
from processor.core.state import TenantState
from processor.embedded import eventlog

EventRef = dict[str, str]  # {"id", "time", "type"} of an input event


def event_ref(event: InputEvent) -> EventRef:
    return {"id": event.id, "time": event.time, "type": event.type}


class LogObserver(Protocol):
    """Looks at every event of the tenant as it is decided: `before` sees the state it is decided on."""

    def before(self, state: TenantState, event: InputEvent) -> None: ...

    def after(self, state: TenantState, event: InputEvent, status: str, outputs: list[Output]) -> None: ...


def replay_tenant(
    conn: sqlite3.Connection,
    tenant_id: str,
    observer: LogObserver | None = None,
    progress: Callable[[int], None] | None = None,
    until: int | None = None,
) -> tuple[TenantState, int]:
    """The tenant rebuilt from its log blocks (up to seq `until`), and the last seq read; `progress` counts lines
    read."""
    state = new_tenant(tenant_id, shipped_catalog())
    last = 0
    pending = 0
    for seq, raw in eventlog.lines(conn, tenant=tenant_id):  # only the blocks holding this tenant's events
        if until is not None and seq > until:
            break
        last = seq
        pending += 1
        if progress is not None and pending == 1000:
            progress(pending)
            pending = 0
        event = parse_event(raw)
        if event.tenant != tenant_id:
            continue
        if observer is not None:
            observer.before(state, event)
        status, outputs = decide_changes(state, event)
        if observer is not None:
            observer.after(state, event, status, outputs)
    if progress is not None and pending:
        progress(pending)
    return state, last
