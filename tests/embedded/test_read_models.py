"""The group_member_errors view: the group-sourced licence assignments in error, with their error detail, exactly as
the decisions log tells them; a database of an older layout (a table, or a view of other SQL) opens with today's; and
every assignment row holds its own error detail; outputs projected without their envelopes give the same rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant
from processor.core.outputs import enveloped
from processor.core.state import TenantState
from processor.demo.generator import generate_demo_events
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime, decision_rows
from projections import models
from projections.store import ProjectionStore
from tests.cli.test_cli import event, tenant_events

COLUMNS = "group_id, user_id, sku_id, sku_part_number, state, error, reason, message, suggested_fix, since"


def _ingest(db: Path, events: list[dict[str, Any]]) -> sqlite3.Connection:
    runtime = EmbeddedRuntime(open_database(db))
    runtime.ingest((f"line {n}", json.dumps(e).encode()) for n, e in enumerate(events))
    return runtime.conn


def _from_decisions(conn: sqlite3.Connection) -> set[tuple[Any, ...]]:
    """The last state of every group-sourced assignment according to the output events, those in error."""
    last: dict[tuple[str, str, str], dict[str, Any]] = {}
    for _, _, raw in decision_rows(conn):
        output = json.loads(raw)
        d = output["data"]
        if output["type"] == "LicenseAssignmentStateChanged" and d["assignedByGroup"]:
            last[(d["assignedByGroup"], d["userId"], d["skuId"])] = d
    rows = set()
    for (group_id, user_id, sku_id), d in last.items():
        if d["state"] in ("Error", "ActiveWithError"):
            detail = d["errorDetail"] or {}
            reason, message, fix = detail.get("reason"), detail.get("message"), detail.get("suggestedFix")
            rows.add(
                (group_id, user_id, sku_id, d["skuPartNumber"], d["state"], d["error"], reason, message, fix,
                 d["lastUpdatedDateTime"])
            )  # fmt: skip
    return rows


def _view(conn: sqlite3.Connection) -> set[tuple[Any, ...]]:
    return set(conn.execute(f"SELECT {COLUMNS} FROM group_member_errors WHERE tenant = 'contoso'"))


def test_members_in_error_match_the_decisions_and_leave_when_fixed(tmp_path: Path) -> None:
    conn = _ingest(tmp_path / "t.db", tenant_events())
    rows = _view(conn)
    assert {(r[0], r[1], r[5]) for r in rows} == {
        ("G_ZETA", "u1", "CountViolation"),
        ("G_ZETA", "u3", "CountViolation"),
    }
    assert all(r[6] and r[7] and r[8] for r in rows), rows  # reason, message and suggested fix are there
    assert rows == _from_decisions(conn)
    conn.close()

    fix = [
        *tenant_events(),
        event("e-30", 30, "SubscriptionChanged", skuId="ENTERPRISEPACK", prepaidUnits={"enabled": 10}),
        event("e-31", 31, "LicenseReprocessRequested", userId="u1"),
        event("e-32", 32, "LicenseReprocessRequested", userId="u3"),
    ]
    conn = _ingest(tmp_path / "t.db", fix)  # the first events are duplicates now
    assert _view(conn) == _from_decisions(conn) == set()
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM group_member_errors WHERE tenant = 'contoso' AND group_id = 'G_ZETA'"
    ).fetchall()
    assert "license_assignments_not_active" in str(plan), plan


@pytest.mark.parametrize("older", ["table", "view"])
def test_a_database_of_an_older_layout_opens_with_todays_view(tmp_path: Path, older: str) -> None:
    db = tmp_path / "old.db"
    conn = _ingest(db, tenant_events())
    expected = _view(conn)
    conn.execute("DROP VIEW group_member_errors")
    if older == "table":
        conn.execute(f"CREATE TABLE group_member_errors (tenant TEXT, {COLUMNS})")
        conn.execute("INSERT INTO group_member_errors (tenant, group_id, user_id) VALUES ('contoso', 'G_OLD', 'u9')")
    else:
        conn.execute(f"CREATE VIEW group_member_errors AS SELECT 'contoso' AS tenant, {COLUMNS} FROM audit_log")
    conn.close()

    conn = open_database(db)
    ProjectionStore(conn)
    ((kind, sql),) = conn.execute("SELECT type, sql FROM sqlite_master WHERE name = 'group_member_errors'")
    assert kind == "view" and "FROM license_assignment_rows" in sql
    assert _view(conn) == expected


def test_each_assignment_row_holds_its_own_error_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Error details are serialised once per detail dict (by identity): dicts created and dropped one after the
    other, whose ids the interpreter reuses, must each still give their own JSON and id."""
    monkeypatch.setattr(models, "DETAIL_CACHE", 3)
    model = models.UserLicenseStates()
    shared = {"reason": "shared", "message": "the same dict on every other event"}
    for n in range(200):
        detail = shared if n % 2 else {"reason": f"own {n}", "addresses": [{"address": f"a{n}", "alsoUsedBy": ["u"]}]}
        event = {
            "id": f"e{n}#0",
            "type": "LicenseAssignmentStateChanged",
            "time": "2026-01-05T09:00:00Z",
            "tenant": "t",
            "data": {
                "userId": f"u{n}",
                "skuId": "sku",
                "skuPartNumber": "SKU",
                "assignedByGroup": "g",
                "state": "Error",
                "error": "UniquenessViolation",
                "disabledPlans": [],
                "errorDetail": detail,
                "lastUpdatedDateTime": "2026-01-05T09:00:00Z",
            },
        }
        [(_, (detail_id,), (_, text)), (_, _, row)] = model.changes(event, n)
        assert json.loads(text) == detail and row is not None and row[9] == detail_id == models.detail_key(text)
        del detail, event


def _tables(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    store_tables = [table for model in models.READ_MODELS for table in model.tables]
    return {table: sorted(conn.execute(f"SELECT * FROM {table}"), key=repr) for table in store_tables}


def test_outputs_projected_without_their_envelopes_give_the_rows_their_envelopes_give() -> None:
    """The embedded runtime projects (type, data) pairs (apply_outputs), the Kafka projector enveloped output
    events (apply): every read-model row, the ids of audit records and rejections included, must be the same."""
    enveloped_store = ProjectionStore(sqlite3.connect(":memory:", isolation_level=None))
    pairs_store = ProjectionStore(sqlite3.connect(":memory:", isolation_level=None))
    tenants: dict[str, TenantState] = {}
    for seq, raw in enumerate(generate_demo_events(seed=3, users=300), 1):
        event = parse_event(json.dumps(raw))
        _, outputs = decide_changes(
            tenants.setdefault(event.tenant, new_tenant(event.tenant, shipped_catalog())), event
        )
        enveloped_store.apply(enveloped(event.id, event.time, event.tenant, outputs), "s", seq)
        pairs_store.apply_outputs(outputs, "s", seq, event.id, event.time, event.tenant)
    for store in (enveloped_store, pairs_store):
        store.conn.execute("BEGIN")
        store.flush()
        store.conn.execute("COMMIT")
    expected = _tables(enveloped_store.conn)
    assert expected["audit_log"] and expected["rejected_commands"] and expected["error_details"]
    assert _tables(pairs_store.conn) == expected


def test_a_database_with_error_details_on_the_assignment_rows_moves_them_to_their_own_table(tmp_path: Path) -> None:
    """Before `error_details`, `license_assignments` was a table holding every detail's JSON: opening such a
    database moves its rows, and the view gives exactly what the table held."""
    db = tmp_path / "old.db"
    conn = _ingest(db, tenant_events())
    assignments = "SELECT * FROM license_assignments ORDER BY user_id, sku_id, source"
    expected = conn.execute(assignments).fetchall()
    errors = _view(conn)
    assert any(row[9] for row in expected) and errors
    (view_sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'group_member_errors'").fetchone()
    conn.execute("BEGIN")
    conn.execute(
        "CREATE TABLE old (tenant TEXT, user_id TEXT, sku_id TEXT, source TEXT, sku_part_number TEXT, "
        "assigned_by_group TEXT, state TEXT, error TEXT, disabled_plans TEXT, error_detail TEXT, last_updated TEXT, "
        "PRIMARY KEY (tenant, user_id, sku_id, source))"
    )
    conn.execute("INSERT INTO old SELECT * FROM license_assignments")
    conn.execute("DROP VIEW group_member_errors")  # else the renaming below finds it naming a missing table
    conn.execute("DROP VIEW license_assignments")
    conn.execute("DROP TABLE license_assignment_rows")
    conn.execute("DROP TABLE error_details")
    conn.execute("ALTER TABLE old RENAME TO license_assignments")
    conn.execute(
        "CREATE INDEX license_assignments_not_active ON license_assignments (tenant, state) WHERE state != 'Active'"
    )
    conn.execute("COMMIT")
    conn.close()

    conn = open_database(db)
    ProjectionStore(conn)
    assert conn.execute("SELECT type FROM sqlite_master WHERE name = 'license_assignments'").fetchone() == ("view",)
    assert conn.execute(assignments).fetchall() == expected
    assert _view(conn) == errors
    distinct = conn.execute("SELECT count(DISTINCT error_detail) FROM license_assignments").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM error_details").fetchone()[0] == distinct


def test_assignment_rows_in_a_rowid_table_move_to_their_key_b_tree(tmp_path: Path) -> None:
    db = tmp_path / "rowid.db"
    conn = _ingest(db, tenant_events())
    assignments = "SELECT * FROM license_assignments ORDER BY user_id, sku_id, source"
    expected, errors = conn.execute(assignments).fetchall(), _view(conn)
    assert expected and errors
    conn.execute("PRAGMA legacy_alter_table = ON")  # the views over the table stay as they are
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE copied AS SELECT * FROM license_assignment_rows")  # a rowid table
    conn.execute("DROP TABLE license_assignment_rows")
    conn.execute("ALTER TABLE copied RENAME TO license_assignment_rows")
    conn.execute("COMMIT")
    conn.close()

    conn = open_database(db)
    ProjectionStore(conn)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'license_assignment_rows'").fetchone()
    assert sql.endswith("WITHOUT ROWID")
    assert conn.execute(assignments).fetchall() == expected
    assert _view(conn) == errors
