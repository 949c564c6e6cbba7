"""A group with more users in error than a page holds: the group page lists every one of them, a page at a time,
each once."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from processor.api.dashboard.pages import PAGE
from tests.api.conftest import export, ingest, start_server, stop_server

TENANT = "fabrikam"
USERS = PAGE * 2 + 7  # three pages


def event(n: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"e{n}",
        "source": "/test",
        "type": kind,
        "time": f"2026-03-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "tenant": TENANT,
        "data": data,
    }


def short_of_seats() -> list[dict[str, Any]]:
    """A group assigning E3 to USERS members, with 3 seats bought: all but 3 members are in error."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("TenantConfigured", {"countryLetterCode": "US"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 3}}),
        ("GroupCreated", {"groupId": "g-e3", "displayName": "E3 for everyone"}),
    ]
    for n in range(USERS):
        user = f"user-{n:03d}"
        steps.append(("UserCreated", {"userId": user, "displayName": f"Person {n:03d}", "usageLocation": "US"}))
        steps.append(("GroupMemberAdded", {"groupId": "g-e3", "memberId": user}))
    steps.append(("GroupLicensesChanged", {"groupId": "g-e3", "addLicenses": [{"skuId": "ENTERPRISEPACK"}]}))
    return [event(n, kind, data) for n, (kind, data) in enumerate(steps)]


def test_the_group_page_lists_every_user_in_error_a_page_at_a_time(tmp_path: Path) -> None:
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("".join(json.dumps(e) + "\n" for e in short_of_seats()))
    db = tmp_path / "paging.db"
    ingest(db, events_file)
    (group,) = export(db, TENANT)["groups"]
    assert len(group["membersWithLicenseErrors"]) == USERS - 3
    server = start_server(db)
    try:
        listed: list[str] = []
        pages = 0
        path: str | None = f"/tenants/{TENANT}/groups/g-e3"
        with server.client() as client:
            while path is not None:
                page = client.get(path)
                assert page.status_code == 200
                shown = re.findall(r'data-user-id="([^"]+)"', page.text)
                assert len(shown) <= PAGE
                listed += shown
                pages += 1
                found = re.search(r'href="\?after=([^"]+)">Next page', page.text)
                path = f"/tenants/{TENANT}/groups/g-e3?after={found[1]}" if found else None
            assert f'data-count="{USERS - 3}"' in client.get(f"/tenants/{TENANT}/groups/g-e3").text
    finally:
        stop_server(server)
    assert pages == 3
    assert listed == sorted(set(listed)) == group["membersWithLicenseErrors"]
