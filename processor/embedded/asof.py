"""Time travel: a tenant's read models as they were at a moment, rebuilt from the log into memory."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant
from processor.embedded import eventlog
from processor.embedded.writer import STREAM
from projections.store import ProjectionStore


def state_as_of(conn: sqlite3.Connection, tenant_id: str, as_of: str) -> sqlite3.Connection:
    """An in-memory read-model database holding the tenant as it was after every event with time <= as_of."""
    limit = parse_time(as_of)
    memory = sqlite3.connect(":memory:", isolation_level=None)
    projections = ProjectionStore(memory)
    state = new_tenant(tenant_id, shipped_catalog())
    memory.execute("BEGIN")
    for seq, raw in eventlog.lines(conn):
        event = parse_event(raw)
        if event.tenant != tenant_id or parse_time(event.time) > limit:
            continue
        _, outputs = decide_changes(state, event)
        projections.apply_outputs(outputs, STREAM, seq, event.id, event.time, event.tenant)
    projections.flush()
    memory.execute("COMMIT")
    return memory


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return moment
