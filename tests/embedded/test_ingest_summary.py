"""The ingest's one-line summary: besides accepted, duplicates, stale and dead-lettered, the commands the core
refused and the events that created a tenant, user or group implicitly (often a typo upstream)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from processor.demo.generator import generate_demo_events
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime, decision_rows


def _event(n: int, event_type: str, data: dict[str, Any], tenant: str = "contoso") -> bytes:
    event = {
        "specversion": "1.0",
        "id": f"e{n}",
        "source": "/test",
        "type": event_type,
        "time": f"2026-03-01T10:00:{n:02d}Z",
        "tenant": tenant,
        "data": data,
    }
    return json.dumps(event).encode()


E3 = [{"skuId": "ENTERPRISEPACK", "disabledPlans": []}]
STREAM = [
    _event(1, "TenantConfigured", {"countryLetterCode": "US"}),
    _event(2, "SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 5}}),
    _event(3, "UserCreated", {"userId": "ann", "usageLocation": "US"}),
    _event(4, "GroupCreated", {"groupId": "sales"}),
    _event(5, "GroupMemberAdded", {"groupId": "sales", "memberId": "ann"}),
    _event(6, "GroupMemberAdded", {"groupId": "sales", "memberId": "bob"}),  # bob: implicit
    _event(7, "GroupLicensesChanged", {"groupId": "sales", "addLicenses": E3, "removeLicenses": []}),
    _event(8, "GroupDeleted", {"groupId": "sales"}),  # refused: the group has licences
    _event(9, "UserLicensesChanged", {"userId": "ann", "addLicenses": [{"skuId": "NOSUCHSKU"}], "removeLicenses": []}),
    _event(10, "GroupMemberAdded", {"groupId": "markting", "memberId": "ann"}),  # a typo: group implicit
    _event(11, "UserCreated", {"userId": "bob", "usageLocation": "US"}),  # bob exists: not a creation
    _event(12, "UserCreated", {"userId": "carl"}),
    _event(1, "UserCreated", {"userId": "dan"}, tenant="contosso"),  # a typo: tenant implicit
]


def test_the_summary_counts_refused_commands_and_names_implicit_creations(tmp_path: Path) -> None:
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    summary = runtime.ingest([("test", line) for line in STREAM])
    assert (summary.accepted, summary.rejected, summary.implicit) == (len(STREAM), 2, 3)
    assert summary.implicit_ids == ["e6", "e10", "e1"]
    assert summary.line() == (
        f"accepted {len(STREAM)}, duplicates 0, stale 0, dead-lettered 0, rejected 2, id conflicts 0; "
        "3 created a tenant, user or group implicitly (e6, e10, e1)"
    )


def test_refused_commands_are_the_rejections_in_the_decisions_log(tmp_path: Path) -> None:
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    summary = runtime.ingest([("demo", json.dumps(event).encode()) for event in generate_demo_events(users=600)])
    rejections = [1 for _, _, output in decision_rows(runtime.conn) if json.loads(output)["type"] == "CommandRejected"]
    assert summary.rejected == len(rejections) > 0
    assert summary.implicit == 0  # the demo creates everything before naming it
    assert summary.line().endswith(f"rejected {len(rejections)}, id conflicts 0")


def test_only_the_first_few_implicit_creations_are_named(tmp_path: Path) -> None:
    lines = [_event(n, "GroupMemberAdded", {"groupId": "g", "memberId": f"u{n}"}) for n in range(1, 13)]
    summary = EmbeddedRuntime(open_database(tmp_path / "log.db")).ingest([("test", line) for line in lines])
    assert summary.implicit == 12 and summary.implicit_ids == ["e1", "e2", "e3", "e4", "e5"]
    assert summary.line().endswith("; 12 created a tenant, user or group implicitly (e1, e2, e3, e4, e5, …)")
