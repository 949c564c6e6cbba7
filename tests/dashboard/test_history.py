"""The dashboard's history, read from an embedded store's decisions log: days in UTC, late arrivals on the latest
day, users in error counted once however many of their entries fail, and a store without a log drawing nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from processor.api.dashboard.history import TENANT_WIDE, DaySeries, LogHistory, day_of
from processor.catalog_file import shipped_catalog
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime, decision_rows
from tests.dashboard.test_paging import event


def test_days_are_utc_dates_and_late_arrivals_count_on_the_latest_day() -> None:
    assert day_of("2026-03-01T23:30:00-02:00") == "2026-03-02"
    assert day_of("2026-03-01T00:10:00+01:00") == "2026-02-28"
    series = DaySeries()
    series.record("2026-03-02", (1,))
    series.record("2026-03-01", (2,))  # decided after the 2nd: it holds from then
    series.record("2026-03-03", (3,))
    assert (series.days, series.values) == (["2026-03-02", "2026-03-03"], [(2,), (3,)])


def decided(db: Path, events: list[dict[str, object]]) -> None:
    conn = open_database(db)
    try:
        EmbeddedRuntime(conn).ingest([(f"test #{n}", orjson.dumps(e)) for n, e in enumerate(events)], writer="inline")
    finally:
        conn.close()


def e3_and_ems_on_group_g(seats: int) -> list[tuple[str, dict[str, Any]]]:
    """A US tenant with `seats` of E3 and of EMS, and a group g (not yet licensed)."""
    return [
        ("TenantConfigured", {"countryLetterCode": "US"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": seats}}),
        ("SubscriptionChanged", {"skuId": "EMS", "prepaidUnits": {"enabled": seats}}),
        ("GroupCreated", {"groupId": "g"}),
    ]


E3_AND_EMS = {"groupId": "g", "addLicenses": [{"skuId": "ENTERPRISEPACK"}, {"skuId": "EMS"}]}


def test_a_user_failing_two_products_of_a_group_is_one_user_in_error(tmp_path: Path) -> None:
    steps = e3_and_ems_on_group_g(seats=1) + [
        ("UserCreated", {"userId": "first", "usageLocation": "US"}),
        ("UserCreated", {"userId": "second", "usageLocation": "US"}),
        ("GroupMemberAdded", {"groupId": "g", "memberId": "first"}),
        ("GroupMemberAdded", {"groupId": "g", "memberId": "second"}),
        ("GroupLicensesChanged", E3_AND_EMS),
    ]
    db = tmp_path / "history.db"
    decided(db, [event(n, kind, data) for n, (kind, data) in enumerate(steps)])
    history = LogHistory(db)
    history.catch_up()
    assert history.errors_series("fabrikam", "g").values[-1] == (1,)  # "second": both products in error
    assert history.errors_series("fabrikam", TENANT_WIDE).values[-1] == (1,)
    ems = shipped_catalog().resolve_sku("EMS")
    assert ems is not None and history.product_series("fabrikam", ems.sku_id).values[-1] == (1, 1)
    events = history.user_events("fabrikam", "second", None, 10)
    assert [e.type for e in events] == ["GroupLicensesChanged"]
    assert sorted((c.sku_part_number, c.state, c.error) for c in events[0].changes) == [
        ("EMS", "Error", "CountViolation"),
        ("ENTERPRISEPACK", "Error", "CountViolation"),
    ]

    more = [event(100, "SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 2}})]
    more.append(event(101, "SubscriptionChanged", {"skuId": "EMS", "prepaidUnits": {"enabled": 2}}))
    more.append(event(102, "LicenseReprocessRequested", {"userId": "second"}))
    decided(db, more)
    history.catch_up()  # reads only the new blocks
    assert history.errors_series("fabrikam", "g").values[-1] == (0,)
    assert [e.type for e in history.user_events("fabrikam", "second", None, 10)][0] == "LicenseReprocessRequested"


def test_a_store_without_a_decisions_log_has_no_history(tmp_path: Path) -> None:
    db = tmp_path / "read-models-only.db"
    sqlite3.connect(db).execute("CREATE TABLE users (tenant TEXT)").connection.close()
    history = LogHistory(db)
    history.catch_up()
    assert not history.kept()
    assert history.errors_series("fabrikam", TENANT_WIDE).values == []


def test_a_users_history_pages_newest_first_each_event_with_its_changes_in_log_order(tmp_path: Path) -> None:
    steps = e3_and_ems_on_group_g(seats=5) + [
        ("GroupLicensesChanged", E3_AND_EMS),
        ("UserCreated", {"userId": "u", "usageLocation": "US"}),
        ("UserCreated", {"userId": "other", "usageLocation": "US"}),
    ]
    for _ in range(4):  # each join and leave changes both of u's entries in one event; "other" interleaves
        steps += [("GroupMemberAdded", {"groupId": "g", "memberId": "u"})]
        steps += [("GroupMemberAdded", {"groupId": "g", "memberId": "other"})]
        steps += [("GroupMemberRemoved", {"groupId": "g", "memberId": "u"})]
        steps += [("GroupMemberRemoved", {"groupId": "g", "memberId": "other"})]
    db = tmp_path / "history.db"
    decided(db, [event(n, kind, data) for n, (kind, data) in enumerate(steps)])
    history = LogHistory(db)
    history.catch_up()

    everything = history.user_events("fabrikam", "u", None, 100)
    assert [e.type for e in everything] == ["GroupMemberRemoved", "GroupMemberAdded"] * 4
    positions = [e.position for e in everything]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == 8
    logged: dict[int, list[str]] = {}  # position -> the SKUs of u's changes, in the order the log holds them
    conn = sqlite3.connect(db)
    for seq, _, body in decision_rows(conn):
        output = orjson.loads(body)
        if output["type"] == "LicenseAssignmentStateChanged" and output["data"]["userId"] == "u":
            logged.setdefault(seq, []).append(output["data"]["skuId"])
    conn.close()
    assert sorted(logged, reverse=True) == positions
    for e in everything:
        assert [c.sku_id for c in e.changes] == logged[e.position] and len(e.changes) == 2
        assert {c.state for c in e.changes} == ({None} if e.type == "GroupMemberRemoved" else {"Active"})

    pages, before = [], None
    for _ in range(10):  # 8 events: 3 pages, then an empty one
        page = history.user_events("fabrikam", "u", before, 3)
        if not page:
            break
        pages += page
        before = page[-1].position
    assert pages == everything  # pages of 3 events, none repeated or skipped
    assert history.user_events("fabrikam", "nobody", None, 10) == []
