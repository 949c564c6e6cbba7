"""The EventContext keeps each group's `sourced` and `errors` sets as the change at hand tells it (an entry of the
group in error puts the user in both, one not in error for a user the group has no error for keeps it out of the
errors); after every event they must be what the users' entries say."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide, new_tenant
from processor.core.state import ERROR_STATES, TenantState
from tests.dsl import cloud_event
from tests.properties.test_properties import HANDWRITTEN, PROPERTY_SETTINGS, streams


def _standing(state: TenantState) -> dict[str, tuple[set[str], set[str]]]:
    """Per group: the users with an entry from it, and those with one in Error or ActiveWithError."""
    standing: dict[str, tuple[set[str], set[str]]] = {group_id: (set(), set()) for group_id in state.groups}
    for user in state.users.values():
        for (_, group_id), entry in user.entries.items():
            if group_id is not None and group_id in standing:
                standing[group_id][0].add(user.user_id)
                if entry.state in ERROR_STATES:
                    standing[group_id][1].add(user.user_id)
    return standing


def _flagged_sibling_stream() -> list[dict[str, Any]]:
    """u1 holds E3 and a calling plan from g1; a move to Japan flags the calling plan (ActiveWithError), then g1
    narrows E3: the E3 entry changes while its sibling stays in error, so u1 stays among g1's errors."""
    payloads: list[tuple[str, dict[str, Any]]] = [
        ("TenantConfigured", {"countryLetterCode": "US"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 5}}),
        ("SubscriptionChanged", {"skuId": "MCOPSTN1", "prepaidUnits": {"enabled": 5}}),
        ("GroupCreated", {"groupId": "g1"}),
        (
            "GroupLicensesChanged",
            {"groupId": "g1", "addLicenses": [{"skuId": "ENTERPRISEPACK"}, {"skuId": "MCOPSTN1"}]},
        ),
        ("UserCreated", {"userId": "u1", "usageLocation": "US"}),
        ("GroupMemberAdded", {"groupId": "g1", "memberId": "u1"}),
        ("UserUpdated", {"userId": "u1", "usageLocation": "JP"}),
        ("LicenseReprocessRequested", {"userId": "u1"}),
        (
            "GroupLicensesChanged",
            {"groupId": "g1", "addLicenses": [{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY"]}]},
        ),
    ]
    return [cloud_event("flagged", n, event_type, data, "/admin") for n, (event_type, data) in enumerate(payloads)]


@PROPERTY_SETTINGS
@given(stream=streams())
@example(stream=HANDWRITTEN)
@example(stream=_flagged_sibling_stream())
def test_groups_know_which_users_they_source_and_which_are_in_error(stream: list[dict[str, Any]]) -> None:
    states: dict[str, TenantState] = {}
    for event in stream:
        state = states.setdefault(event["tenant"], new_tenant(event["tenant"], shipped_catalog()))
        decide(state, parse_event(json.dumps(event)))
        kept = {group_id: (group.sourced, group.errors) for group_id, group in state.groups.items()}
        assert kept == _standing(state), (event["type"], event["data"])
