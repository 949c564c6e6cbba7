"""With `releaseSeatOnSoftDelete`, seats follow the users who are not deleted, and neither a restore nor anything
else grants one beyond capacity (SPEC §2.6, §2.16, P3), over generated lives of a few users around one product."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide, new_tenant
from processor.core.state import APPLIED_STATES, TenantState
from tests.dsl import cloud_event
from tests.properties.test_properties import PROPERTY_SETTINGS

USERS = ["u1", "u2", "u3"]
START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


def step(user: str, group: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return st.sampled_from(
        [
            ("GroupMemberAdded", {"groupId": group, "memberId": user}),
            ("GroupMemberAdded", {"groupId": group, "memberId": user}),
            ("GroupMemberRemoved", {"groupId": group, "memberId": user}),
            ("UserDeleted", {"userId": user}),
            ("UserRestored", {"userId": user}),
            ("UserRestored", {"userId": user}),
            ("UserLicensesChanged", {"userId": user, "addLicenses": [{"skuId": "ENTERPRISEPACK"}]}),
            ("UserLicensesChanged", {"userId": user, "removeLicenses": ["ENTERPRISEPACK"]}),
            ("LicenseReprocessRequested", {"userId": user}),
        ]
    )


@st.composite
def lives(draw: st.DrawFn) -> list[dict[str, Any]]:
    mode = draw(st.sampled_from(["faithful", "improved"]))
    payloads: list[tuple[str, dict[str, Any]]] = [
        ("TenantConfigured", {"countryLetterCode": "US", "mode": mode, "settings": {"releaseSeatOnSoftDelete": True}}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": draw(st.integers(0, 2))}}),
        ("GroupCreated", {"groupId": "g1"}),
        ("GroupLicensesChanged", {"groupId": "g1", "addLicenses": [{"skuId": "ENTERPRISEPACK"}]}),
        ("GroupCreated", {"groupId": "g2"}),
        ("GroupLicensesChanged", {"groupId": "g2", "addLicenses": [{"skuId": "ENTERPRISEPACK"}]}),
    ]
    payloads += [("UserCreated", {"userId": user, "usageLocation": "US"}) for user in USERS]
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.integers(0, 9)) == 0:
            units = {"enabled": draw(st.integers(0, 3))}
            payloads.append(("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": units}))
        else:
            payloads.append(draw(step(draw(st.sampled_from(USERS)), draw(st.sampled_from(["g1", "g2"])))))
    return [cloud_event("t", n, kind, data, "/hr-sync", start=START) for n, (kind, data) in enumerate(payloads)]


def seated(state: TenantState) -> set[str]:
    """The users holding a seat: an applied entry and not soft-deleted (seats released on soft delete)."""
    return {
        user.user_id
        for user in state.users.values()
        if not user.soft_deleted and any(e.state in APPLIED_STATES for e in user.entries.values())
    }


@PROPERTY_SETTINGS
@given(stream=lives())
def test_seats_follow_the_users_not_deleted_and_never_exceed_capacity_when_granted(
    stream: list[dict[str, Any]],
) -> None:
    state = new_tenant("t", shipped_catalog())
    sku_id = "6fd2c87f-b296-42f0-b197-1e91e994b900"
    for event in stream:
        before = seated(state)
        decide(state, parse_event(json.dumps(event)))
        after = seated(state)
        consumed = state.consumed.get(sku_id, 0)
        assert consumed == len(after), event
        sub = state.subscriptions.get(sku_id)
        capacity = sub.enabled + sub.warning if sub else 0
        if after - before:
            assert consumed <= capacity, f"{event['type']} {event['data']}: {consumed} seats of {capacity}"
