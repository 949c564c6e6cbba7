"""A user in many licensed groups (bench/many_groups.py): its membership changes are decided from its holdings
(processor.core.holdings) without a pass over all of its groups, and must decide exactly what full evaluations of
the user decide. Each stream is decided twice: with every user indexed, and with none (every evaluation full)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core import holdings
from processor.core.decide import decide, new_tenant
from tests.dsl import cloud_event, decide_stream
from tests.unit.test_core_speed_equivalence import _canonical

START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
CLEAN = 96  # groups whose licences the user can all hold together
PROBLEM = 24  # groups each failing for the user: E1 (clashes with E3), Calling Plan (outside the US), EMS (no seat)
CLEAN_LICENCES: list[list[dict[str, Any]]] = [
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": []}],
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY", "YAMMER_ENTERPRISE"]}],
    [{"skuId": "POWER_BI_PRO", "disabledPlans": []}],
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": []}, {"skuId": "MCOMEETADV", "disabledPlans": []}],
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY"]}, {"skuId": "POWER_BI_PRO", "disabledPlans": []}],
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY"]}],
]
PROBLEM_LICENCES: list[list[dict[str, Any]]] = [
    [{"skuId": "STANDARDPACK", "disabledPlans": []}],
    [{"skuId": "MCOPSTN1", "disabledPlans": []}],
    [{"skuId": "POWER_BI_PRO", "disabledPlans": []}, {"skuId": "EMS", "disabledPlans": []}],
]
CLEAN_GROUPS = [f"c{g:03}" for g in range(CLEAN)]
PROBLEM_GROUPS = [f"p{g:03}" for g in range(PROBLEM)]
E3_GROUPS = [group for n, group in enumerate(CLEAN_GROUPS) if n % len(CLEAN_LICENCES) != 2]


def many_groups_stream(mode: str) -> list[dict[str, Any]]:
    """u joins 96 licensed groups it can hold together, gets an add-on directly, then joins groups that fail for
    it (no EMS seat left, a clash with E3, a plan not offered where it moved) and is retried by later membership
    changes and reprocesses, leaves them again, leaves and rejoins others, is soft-deleted and restored, and finally
    leaves every group giving it E3, the last of which its add-on still depends on."""
    payloads: list[tuple[str, dict[str, Any]]] = [
        ("TenantConfigured", {"countryLetterCode": "US", "mode": mode}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 5}}),
        ("SubscriptionChanged", {"skuId": "STANDARDPACK", "prepaidUnits": {"enabled": 5}}),
        ("SubscriptionChanged", {"skuId": "MCOMEETADV", "prepaidUnits": {"enabled": 5}}),
        ("SubscriptionChanged", {"skuId": "MCOPSTN1", "prepaidUnits": {"enabled": 5}}),
        ("SubscriptionChanged", {"skuId": "POWER_BI_PRO", "prepaidUnits": {"enabled": 5}}),
        ("SubscriptionChanged", {"skuId": "EMS", "prepaidUnits": {"enabled": 1}}),
        ("UserCreated", {"userId": "u", "usageLocation": "US", "proxyAddresses": ["SMTP:u@contoso.com"]}),
        ("UserCreated", {"userId": "v", "usageLocation": "US"}),
    ]
    for groups, licences in ((CLEAN_GROUPS, CLEAN_LICENCES), (PROBLEM_GROUPS, PROBLEM_LICENCES)):
        for n, group in enumerate(groups):
            payloads.append(("GroupCreated", {"groupId": group}))
            payloads.append(("GroupLicensesChanged", {"groupId": group, "addLicenses": licences[n % len(licences)]}))
    payloads.append(("GroupMemberAdded", {"groupId": "p002", "memberId": "v"}))  # v takes the EMS seat
    payloads += _members("GroupMemberAdded", CLEAN_GROUPS[:12])
    # Audio Conferencing, directly: it needs MCOSTANDARD, which only the E3 groups give.
    payloads.append(("UserLicensesChanged", {"userId": "u", "addLicenses": [{"skuId": "MCOMEETADV"}]}))
    payloads += _members("GroupMemberAdded", CLEAN_GROUPS[12:])
    payloads += [
        ("GroupMemberAdded", {"groupId": "p002", "memberId": "u"}),  # no EMS seat left: CountViolation, Other
        ("SubscriptionChanged", {"skuId": "EMS", "prepaidUnits": {"enabled": 2}}),  # (faithful: no healing)
        ("GroupMemberRemoved", {"groupId": "c000", "memberId": "u"}),  # the evaluation retries the EMS bundle
        ("GroupMemberAdded", {"groupId": "c000", "memberId": "u"}),
        ("UserUpdated", {"userId": "u", "usageLocation": "IN"}),  # no calling plan there
    ]
    payloads += _members("GroupMemberAdded", PROBLEM_GROUPS)
    payloads += [
        ("LicenseReprocessRequested", {"userId": "u"}),
        ("UserUpdated", {"userId": "u", "usageLocation": "US"}),
        ("LicenseReprocessRequested", {"groupId": "p001"}),
    ]
    payloads += _members("GroupMemberRemoved", PROBLEM_GROUPS)
    payloads += _members("GroupMemberRemoved", CLEAN_GROUPS[::5])
    payloads += _members("GroupMemberAdded", CLEAN_GROUPS[::5])
    payloads += [
        ("GroupLicensesChanged", {"groupId": "c002", "removeLicenses": ["POWER_BI_PRO"]}),
        ("UserLicensesChanged", {"userId": "u", "addLicenses": [{"skuId": "POWER_BI_PRO"}]}),
        ("GroupMemberRemoved", {"groupId": "c007", "memberId": "u"}),
        ("UserLicensesChanged", {"userId": "u", "removeLicenses": ["POWER_BI_PRO"]}),
        ("UserDeleted", {"userId": "u"}),
        ("GroupMemberAdded", {"groupId": "p000", "memberId": "u"}),
        ("UserRestored", {"userId": "u"}),
        ("GroupMemberRemoved", {"groupId": "p000", "memberId": "u"}),
    ]
    payloads += _members("GroupMemberRemoved", E3_GROUPS)
    payloads.append(("LicenseReprocessRequested", {"userId": "u"}))
    return [
        cloud_event("many", n, kind, data, "/hr-sync", start=START, event_id=f"m{n}")
        for n, (kind, data) in enumerate(payloads)
    ]


def _members(event_type: str, groups: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [(event_type, {"groupId": group, "memberId": "u"}) for group in groups]


def decided_both_ways(events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(outputs, canonical states) with every user indexed, and with none; the index itself left out."""
    results = []
    for indexed_from in (0, 10**9):
        with monkeypatch.context() as patch:
            patch.setattr(holdings, "INDEXED_FROM", indexed_from)
            outputs, states = decide_stream(events)
        for state in states.values():
            for user in state.users.values():
                user.holdings = None
        results.append((outputs, _canonical(states)))
    return results[0], results[1]


@pytest.mark.parametrize("mode", ["faithful", "improved"])
def test_a_user_in_many_groups_is_decided_as_full_evaluations_decide(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = many_groups_stream(mode)
    (indexed, indexed_state), (full, full_state) = decided_both_ways(events, monkeypatch)
    assert json.dumps(indexed) == json.dumps(full)
    assert indexed_state == full_state
    # The stream is about what it says: every kind of error reaches the user, ...
    errors = {o["data"]["error"] for out in full for o in out if o["type"] == "LicenseAssignmentStateChanged"}
    assert errors >= {"CountViolation", "MutuallyExclusiveViolation", "DependencyViolation", "Other"}
    assert "ProhibitedInUsageLocationViolation" in errors
    # ... and most of its membership changes find nothing else pending (so they take the short way).
    with monkeypatch.context() as patch:
        patch.setattr(holdings, "INDEXED_FROM", 0)
        state = new_tenant("many", shipped_catalog())
        short = 0
        for event in events:
            user = state.users.get("u")
            pending = user.holdings.pending if user is not None and user.holdings is not None else None
            short += event["type"].startswith("GroupMember") and pending == set()
            decide(state, parse_event(json.dumps(event)))
    assert short > CLEAN
