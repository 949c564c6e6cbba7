"""The group_member_errors view: the group-sourced licence assignments in error, with their error detail, exactly as
the decisions log tells them; a database of an older layout (a table, or a view of other SQL) opens with today's; and
every assignment row holds its own error detail."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from processor.embedded import EmbeddedRuntime, decision_rows, open_database
from projections import models
from projections.store import ProjectionStore
from tests.test_cli import event, tenant_events

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
    assert kind == "view" and "FROM license_assignments" in sql
    assert _view(conn) == expected


def test_each_assignment_row_holds_its_own_error_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Error details are serialised once per detail dict (by identity): dicts created and dropped one after the
    other, whose ids the interpreter reuses, must each still give their own JSON."""
    monkeypatch.setattr(models, "DETAIL_CACHE", 3)
    model = models.UserLicenseStates()
    shared = {"reason": "shared", "message": "the same dict on every other event"}
    for n in range(200):
        detail = shared if n % 2 else {"reason": f"own {n}", "addresses": [{"address": f"a{n}", "alsoUsedBy": ["u"]}]}
        event = {
            "type": "LicenseAssignmentStateChanged",
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
        [(_, _, row)] = model.changes(event, n)
        assert row is not None and json.loads(row[9]) == detail
        del detail, event
