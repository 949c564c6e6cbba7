"""Loading a tenant reads the log blocks holding its events, and no others (block_tenants): a new tenant in a big
log costs its own events, not the log's. Its state is the one the whole log gives."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant
from processor.core.state import TenantState
from processor.demo.generator import generate_demo_events
from processor.embedded import eventlog
from processor.embedded import runtime as embedded
from processor.embedded.asof import state_as_of
from processor.embedded.database import SCHEMA_VERSION, close_database, open_database
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document

SMALL = [f"small-{n}" for n in range(8)]
LAYOUT_3 = {
    "log_blocks": "(first_seq INTEGER PRIMARY KEY, events INTEGER NOT NULL, lines BLOB NOT NULL)",
    "event_ids": "(tenant TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant, id)) WITHOUT ROWID",
    "decision_blocks": "(first_seq INTEGER PRIMARY KEY, outputs BLOB NOT NULL)",
}


def _small_tenant(tenant: str, n: int) -> list[dict[str, Any]]:
    data = [
        ("TenantConfigured", {"countryLetterCode": "US"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 1}}),
        ("UserCreated", {"userId": "u1", "usageLocation": "US"}),
        ("UserCreated", {"userId": "u2", "usageLocation": "US"}),
        ("UserLicensesChanged", {"userId": "u1", "addLicenses": [{"skuId": "ENTERPRISEPACK"}], "removeLicenses": []}),
        ("UserLicensesChanged", {"userId": "u2", "addLicenses": [{"skuId": "ENTERPRISEPACK"}], "removeLicenses": []}),
    ]
    return [
        {
            "specversion": "1.0",
            "id": f"{tenant}-{k}",
            "source": "/test",
            "type": kind,
            "time": f"2026-02-0{1 + n % 8}T10:00:{k:02d}Z",
            "tenant": tenant,
            "data": payload,
        }
        for k, (kind, payload) in enumerate(data)
    ]


def _interleaved() -> list[bytes]:
    """A 200-user demo tenant with small tenants' events dropped in here and there (and at the end)."""
    big = [json.dumps(event).encode() for event in generate_demo_events(users=200)]
    small = {tenant: [json.dumps(e).encode() for e in _small_tenant(tenant, n)] for n, tenant in enumerate(SMALL)}
    lines = []
    for at, line in enumerate(big):
        lines.append(line)
        for n, tenant in enumerate(SMALL[:4]):  # four early tenants, a few events each, spread out
            if small[tenant] and at % 97 == 13 * n:
                lines.append(small[tenant].pop(0))
    for tenant in SMALL:
        lines += small[tenant]
    return lines


@pytest.fixture
def log_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(eventlog, "BLOCK", 50)
    monkeypatch.setattr(embedded, "BATCH", 400)
    db = tmp_path / "log.db"
    runtime = EmbeddedRuntime(open_database(db))
    runtime.ingest([("test", line) for line in _interleaved()], writer="inline")
    close_database(runtime.conn)
    return db


def _from_the_whole_log(conn: sqlite3.Connection, tenant: str) -> TenantState:
    state = new_tenant(tenant, shipped_catalog())
    for _, raw in eventlog.lines(conn):
        event = parse_event(raw)
        if event.tenant == tenant:
            decide_changes(state, event)
    return state


def _blocks_holding(conn: sqlite3.Connection, tenant: str) -> list[int]:
    return [first for first, lines in eventlog.blocks(conn) if any(parse_event(raw).tenant == tenant for raw in lines)]


def _opened_blocks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first seqs of the log blocks read from now on."""
    opened: list[int] = []
    open_block = eventlog.open_block

    def counting(table: str, first_seq: int, *rest: Any) -> list[bytes]:
        if table == "log_blocks":
            opened.append(first_seq)
        return open_block(table, first_seq, *rest)

    monkeypatch.setattr(eventlog, "open_block", counting)
    return opened


def test_a_tenant_is_loaded_from_the_blocks_holding_its_events_only(
    log_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = open_database(log_db)
    blocks = conn.execute("SELECT count(*) FROM log_blocks").fetchone()[0]
    for tenant in (*SMALL, "contoso"):
        holding = _blocks_holding(conn, tenant)
        opened = _opened_blocks(monkeypatch)
        EmbeddedRuntime(conn).tenant(tenant)
        assert opened == holding
        monkeypatch.undo()
        if tenant != "contoso":
            assert len(holding) <= blocks // 3, "a small tenant's events must be in few of the blocks"


def test_a_tenant_loaded_from_its_blocks_equals_the_tenant_the_whole_log_gives(log_db: Path) -> None:
    conn = open_database(log_db)
    for tenant in (*SMALL, "contoso"):
        assert EmbeddedRuntime(conn).tenant(tenant) == _from_the_whole_log(conn, tenant)
    assert EmbeddedRuntime(conn).tenant("nobody") == new_tenant("nobody", shipped_catalog())


def test_a_tenant_loaded_from_its_snapshot_reads_its_blocks_after_it(
    log_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = open_database(log_db)
    runtime = EmbeddedRuntime(conn)
    runtime.ingest([("later", json.dumps(event).encode()) for event in _small_tenant("late", 0)[:3]])
    runtime.conn.execute(*_snapshot_of(runtime, "late"))
    runtime.ingest([("later", json.dumps(event).encode()) for event in _small_tenant("late", 0)[3:]])
    opened = _opened_blocks(monkeypatch)
    state = EmbeddedRuntime(conn).tenant("late")
    assert opened == [eventlog.last_seq(conn) - 2]  # the block of its last three events, none before
    monkeypatch.undo()
    assert state == _from_the_whole_log(conn, "late")


def _snapshot_of(runtime: EmbeddedRuntime, tenant: str) -> tuple[str, tuple[Any, ...]]:
    from processor.statecodec import encode_state

    seq = eventlog.last_seq(runtime.conn)
    return "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)", (tenant, seq, encode_state(runtime.tenants[tenant]))


def test_as_of_reads_the_tenants_blocks_only(log_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = open_database(log_db)
    holding = _blocks_holding(conn, "small-2")
    opened = _opened_blocks(monkeypatch)
    document = tenant_document(state_as_of(conn, "small-2", "2026-12-31T00:00:00Z"), "small-2")
    assert opened == holding
    assert document == tenant_document(conn, "small-2")


def test_a_log_of_layout_3_gets_its_tenant_index_and_digest_columns(log_db: Path) -> None:
    """Layout 3 had neither: the index is built from the blocks, old blocks and ids keep no digest."""
    conn = sqlite3.connect(log_db)
    expected = sorted(conn.execute("SELECT tenant, first_seq FROM block_tenants"))
    conn.execute("DROP TABLE block_tenants")
    for table, layout_3 in LAYOUT_3.items():  # the tables as layout 3 declared them, with their rows
        conn.execute(f"ALTER TABLE {table} RENAME TO {table}_4")
        conn.execute(f"CREATE TABLE {table} {layout_3}")
        columns = ", ".join(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
        conn.execute(f"INSERT INTO {table} SELECT {columns} FROM {table}_4")
        conn.execute(f"DROP TABLE {table}_4")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()

    migrated = open_database(log_db)
    assert migrated.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert sorted(migrated.execute("SELECT tenant, first_seq FROM block_tenants")) == expected
    assert migrated.execute("SELECT count(*) FROM event_ids WHERE digest IS NOT NULL").fetchone() == (0,)
    assert migrated.execute("SELECT count(*) FROM log_blocks WHERE digest IS NOT NULL").fetchone() == (0,)
    for tenant in ("small-1", "contoso"):
        assert EmbeddedRuntime(migrated).tenant(tenant) == _from_the_whole_log(migrated, tenant)
