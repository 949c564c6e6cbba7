"""Time travel: a tenant's read models as they were at a moment, rebuilt from the log into memory."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant
from processor.embedded import eventlog
from processor.embedded.errors import BeforeFirstEvent, InvalidTime
from processor.embedded.writer import STREAM
from projections.store import ProjectionStore


def state_as_of(conn: sqlite3.Connection, tenant_id: str, as_of: str) -> sqlite3.Connection:
    """An in-memory read-model database holding the tenant as it was after every event with time <= as_of.

    Only the log blocks holding the tenant's events are read. NoEventLog for a database without an event log;
    BeforeFirstEvent if the tenant has events but none by then. (A tenant with no event at all is missing from the
    read models returned, as from any.)"""
    limit = parse_time(as_of)
    eventlog.require_event_log(conn)
    memory = sqlite3.connect(":memory:", isolation_level=None)
    projections = ProjectionStore(memory)
    state = new_tenant(tenant_id, shipped_catalog())
    earliest: str | None = None  # the time of the tenant's earliest event, while none is by `as_of`
    memory.execute("BEGIN")
    for seq, raw in eventlog.lines(conn, tenant=tenant_id):
        event = parse_event(raw)
        if event.tenant != tenant_id:
            continue
        if parse_time(event.time) > limit:
            if not state.seq and (earliest is None or parse_time(event.time) < parse_time(earliest)):
                earliest = event.time
            continue
        _, outputs = decide_changes(state, event)
        projections.apply_outputs(outputs, STREAM, seq, event.id, event.time, event.tenant)
    projections.flush()
    memory.execute("COMMIT")
    if earliest is not None and not state.seq:
        raise BeforeFirstEvent(f"tenant {tenant_id!r} did not exist yet at {as_of}: its first event is at {earliest}")
    return memory


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidTime(f"time {value!r} is not an RFC 3339 time (e.g. 2026-03-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        raise InvalidTime(f"time {value!r} has no UTC offset (e.g. 2026-03-01T00:00:00Z)")
    return moment
