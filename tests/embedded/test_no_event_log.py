"""A database of read models without an event log (the Kafka projector's) is not emptied by a replay, and time
travel there says why it cannot answer; as-of before a tenant's first event says so too."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from processor.demo.generator import generate_demo_events
from processor.embedded.asof import state_as_of
from processor.embedded.database import close_database, open_database
from processor.embedded.errors import BeforeFirstEvent, InvalidTime, NoEventLog
from processor.embedded.runtime import EmbeddedRuntime, decision_rows
from processor.kafka.projector import stream_name
from projections.export import tenant_document
from projections.store import ProjectionStore

EVENTS = generate_demo_events(users=200)


@pytest.fixture
def projector_db(tmp_path: Path) -> Path:
    """The read models of the demo tenant as the projector writes them: from decisions, positions per partition."""
    embedded = EmbeddedRuntime(open_database(tmp_path / "embedded.db"))
    embedded.ingest([("demo", json.dumps(event).encode()) for event in EVENTS])
    db = tmp_path / "projector.db"
    conn = open_database(db)
    store = ProjectionStore(conn)
    conn.execute("BEGIN")
    for offset, (_, _, output) in enumerate(decision_rows(embedded.conn)):
        store.apply([json.loads(output)], stream_name(0), offset)
    store.flush()
    conn.execute("COMMIT")
    assert tenant_document(conn, "contoso") == tenant_document(embedded.conn, "contoso")
    close_database(conn)
    return db


def _read_models(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


def test_replay_refuses_a_database_without_an_event_log_and_leaves_it_as_it_is(projector_db: Path) -> None:
    conn = open_database(projector_db)
    before, document = _read_models(conn), tenant_document(conn, "contoso")
    with pytest.raises(NoEventLog, match="holds read models but no event log"):
        EmbeddedRuntime(conn).replay()
    assert _read_models(conn) == before and before["license_assignment_rows"] > 0
    assert tenant_document(conn, "contoso") == document


def test_as_of_on_a_database_without_an_event_log_says_it_has_no_log(projector_db: Path) -> None:
    with pytest.raises(NoEventLog, match="no event log"):
        state_as_of(open_database(projector_db, read_only=True), "contoso", "2030-01-01T00:00:00Z")


def test_as_of_before_a_tenants_first_event_says_the_tenant_did_not_exist_yet(tmp_path: Path) -> None:
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    runtime.ingest([("demo", json.dumps(event).encode()) for event in EVENTS])
    first = min(event["time"] for event in EVENTS)
    with pytest.raises(BeforeFirstEvent, match=f"'contoso' did not exist yet at 2020-01-01T00:00:00Z: .* at {first}"):
        state_as_of(runtime.conn, "contoso", "2020-01-01T00:00:00Z")
    assert tenant_document(state_as_of(runtime.conn, "contoso", first), "contoso")["tenant"]["id"] == "contoso"
    with pytest.raises(InvalidTime, match="not an RFC 3339 time"):
        state_as_of(runtime.conn, "contoso", "yesterday")
    with pytest.raises(InvalidTime, match="has no UTC offset"):
        state_as_of(runtime.conn, "contoso", "2026-01-01T00:00:00")
