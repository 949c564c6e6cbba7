"""LicenseReprocessRequested for every user in error (`allErrors: true`) or every user in error on one product
(`skuId`): the admin's "reprocess all" without a 20-user limit, oldest error first."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events import ParseError, parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant
from processor.core.state import TenantState
from tests.dsl import cloud_event

_n = 0


def _event(kind: str, data: dict[str, Any]) -> bytes:
    global _n
    _n += 1
    return json.dumps(cloud_event("t", _n, kind, data, "/t")).encode()


def _tenant_with_waiting_users() -> TenantState:
    """Three users of groups G (E3) and H (EMS), one seat of each: u2 and u3 wait in CountViolation on both; u4, of H
    only, waits on EMS."""
    state = new_tenant("t", shipped_catalog())
    events = [
        ("TenantConfigured", {"countryLetterCode": "US"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 1}}),
        ("SubscriptionChanged", {"skuId": "EMS", "prepaidUnits": {"enabled": 1}}),
        ("GroupCreated", {"groupId": "G"}),
        ("GroupLicensesChanged", {"groupId": "G", "addLicenses": [{"skuId": "ENTERPRISEPACK"}]}),
        ("GroupCreated", {"groupId": "H"}),
        ("GroupLicensesChanged", {"groupId": "H", "addLicenses": [{"skuId": "EMS"}]}),
    ]
    for user in ("u1", "u2", "u3"):
        events += [
            ("UserCreated", {"userId": user, "usageLocation": "US"}),
            ("GroupMemberAdded", {"groupId": "G", "memberId": user}),
            ("GroupMemberAdded", {"groupId": "H", "memberId": user}),
        ]
    events += [
        ("UserCreated", {"userId": "u4", "usageLocation": "US"}),
        ("GroupMemberAdded", {"groupId": "H", "memberId": "u4"}),
    ]
    for kind, data in events:
        decide_changes(state, parse_event(_event(kind, data)))
    return state


def _states(state: TenantState, sku: str) -> dict[str, str]:
    sku_id = shipped_catalog().resolve_sku(sku).sku_id  # type: ignore[union-attr]
    return {u.user_id: e.state for u in state.users.values() for e in u.entries.values() if e.sku_id == sku_id}


def _buy(state: TenantState, sku: str, seats: int) -> None:
    data = {"skuId": sku, "prepaidUnits": {"enabled": seats}}
    decide_changes(state, parse_event(_event("SubscriptionChanged", data)))


def test_all_errors_reprocesses_every_user_in_error() -> None:
    state = _tenant_with_waiting_users()
    _buy(state, "ENTERPRISEPACK", 3)
    _buy(state, "EMS", 4)
    assert _states(state, "ENTERPRISEPACK") == {"u1": "Active", "u2": "Error", "u3": "Error"}  # faithful: no heal
    decide_changes(state, parse_event(_event("LicenseReprocessRequested", {"allErrors": True})))
    assert set(_states(state, "ENTERPRISEPACK").values()) == {"Active"}
    assert set(_states(state, "EMS").values()) == {"Active"}


def test_sku_reprocesses_the_users_in_error_on_that_product_oldest_error_first() -> None:
    state = _tenant_with_waiting_users()
    _buy(state, "ENTERPRISEPACK", 2)  # one seat more: the oldest waiter (u2) gets it
    _buy(state, "EMS", 4)
    decide_changes(state, parse_event(_event("LicenseReprocessRequested", {"skuId": "ENTERPRISEPACK"})))
    assert _states(state, "ENTERPRISEPACK") == {"u1": "Active", "u2": "Active", "u3": "Error"}
    # A user reprocessed is reprocessed whole (u2, u3 get EMS too); u4, in error on EMS only, is not chosen.
    assert _states(state, "EMS") == {"u1": "Active", "u2": "Active", "u3": "Active", "u4": "Error"}


def test_an_unknown_product_is_a_rejected_command() -> None:
    state = _tenant_with_waiting_users()
    status, outputs = decide_changes(state, parse_event(_event("LicenseReprocessRequested", {"skuId": "NOPE"})))
    assert [t for t, _ in outputs] == ["CommandRejected"]


@pytest.mark.parametrize(
    "data",
    [{}, {"allErrors": False}, {"allErrors": True, "userId": "u1"}, {"skuId": "EMS", "groupId": "G"}],
)
def test_exactly_one_target(data: dict[str, Any]) -> None:
    with pytest.raises(ParseError, match="exactly one of userId, groupId, allErrors"):
        parse_event(_event("LicenseReprocessRequested", data))
