"""Guards for the decision core's speed-ups: what they spell out twice must stay the same."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core import decide as decide_module
from processor.core.decide import decide, decide_changes, new_tenant
from processor.core.outputs import decode_outputs, encode_output, encode_outputs, output_event
from processor.core.state import TenantState
from processor.demo.generator import generate_demo_events
from tests.dsl import decide_stream
from tests.properties.test_properties import PROPERTY_SETTINGS, handwritten_stream, streams

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.jsonl"


def test_outputs_logged_without_envelopes_rebuild_to_the_outputs_decide_gives() -> None:
    """The embedded runtime logs `decide_changes`' (type, data) pairs; decode_outputs must rebuild from them the very
    output events `decide` gives the Kafka worker, byte for byte once encoded."""
    tenants: dict[str, TenantState] = {}
    enveloping: dict[str, TenantState] = {}
    outputs = 0
    for line in QUICKSTART.read_bytes().splitlines():
        event = parse_event(line)
        _, changes = decide_changes(
            tenants.setdefault(event.tenant, new_tenant(event.tenant, shipped_catalog())), event
        )
        decided = decide(
            enveloping.setdefault(event.tenant, new_tenant(event.tenant, shipped_catalog())), event
        ).outputs
        rebuilt = decode_outputs(event.id, event.time, event.tenant, encode_outputs(changes))
        assert [encode_output(o) for o in rebuilt] == [encode_output(o) for o in decided]
        assert all(
            o == output_event(event.id, n, o["type"], event.time, event.tenant, o["data"])
            for n, o in enumerate(decided)
        )
        outputs += len(decided)
    assert outputs > 0


def _canonical(value: Any) -> Any:
    """A state as nested lists, dict order kept (membership order counts), sets sorted, dataclasses by field."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__] + [_canonical(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, dict):
        return [[_canonical(k), _canonical(v)] for k, v in value.items()]
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def _decide_stream(events: list[dict[str, Any]]) -> tuple[list[list[dict[str, Any]]], Any]:
    """Every event's outputs and the final states, canonical."""
    outputs, states = decide_stream(events)
    return outputs, _canonical(states)


def _same_with_and_without_quiet_paths(events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> int:
    quiet = sum(1 for event in events if event["type"] in decide_module._QUIET)
    fast = _decide_stream(events)
    with monkeypatch.context() as patch:
        patch.setattr(decide_module, "_QUIET", {})
        slow = _decide_stream(events)
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    return quiet


def _stuck_entry_stream() -> list[dict[str, Any]]:
    """A group that lost its licence but still sources entries (kept with a DependencyViolation). Once the dependent
    direct licence is gone, u1 leaving the group and u2 joining it again (after leaving while still stuck) retry the
    withdrawal, which then succeeds."""
    payloads: list[tuple[str, dict[str, Any]]] = [
        ("TenantConfigured", {"countryLetterCode": "US"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 5}}),
        ("SubscriptionChanged", {"skuId": "MCOMEETADV", "prepaidUnits": {"enabled": 5}}),
        ("GroupCreated", {"groupId": "g1"}),
        ("GroupLicensesChanged", {"groupId": "g1", "addLicenses": [{"skuId": "ENTERPRISEPACK"}]}),
    ]
    for user in ("u1", "u2"):
        payloads += [
            ("UserCreated", {"userId": user, "usageLocation": "US"}),
            ("GroupMemberAdded", {"groupId": "g1", "memberId": user}),
            ("UserLicensesChanged", {"userId": user, "addLicenses": [{"skuId": "MCOMEETADV"}]}),
        ]
    payloads += [
        ("GroupLicensesChanged", {"groupId": "g1", "removeLicenses": ["ENTERPRISEPACK"]}),
        ("UserLicensesChanged", {"userId": "u1", "removeLicenses": ["MCOMEETADV"]}),
        ("GroupMemberRemoved", {"groupId": "g1", "memberId": "u1"}),  # withdraws u1's entry
        ("GroupMemberRemoved", {"groupId": "g1", "memberId": "u2"}),
        ("UserLicensesChanged", {"userId": "u2", "removeLicenses": ["MCOMEETADV"]}),
        ("GroupMemberAdded", {"groupId": "g1", "memberId": "u2"}),  # withdraws u2's entry
    ]
    return [
        {
            "specversion": "1.0",
            "id": f"s{n}",
            "source": "/admin",
            "type": event_type,
            "time": f"2026-01-05T09:00:{n:02d}Z",
            "tenant": "stuck",
            "data": data,
        }
        for n, (event_type, data) in enumerate(payloads)
    ]


def test_quiet_membership_paths_decide_as_the_handlers_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast paths of membership events that decide nothing: same outputs, same state, on the demo tenant (both
    modes, nested groups, removals, re-adds), a group sourcing an entry without licences, and the handwritten
    stream of the property tests."""
    events = generate_demo_events(users=400)
    improved = [dict(event, tenant="improved") for event in events]
    improved.insert(0, {**events[0], "tenant": "improved", "type": "TenantConfigured", "data": {"mode": "improved"}})
    stuck = _stuck_entry_stream()
    outputs, _ = _decide_stream(stuck)
    for at, user in ((-4, "u1"), (-1, "u2")):
        withdrawn = [o["data"] for o in outputs[at] if o["type"] == "LicenseAssignmentStateChanged"]
        assert [(d["userId"], d["previousState"], d["state"]) for d in withdrawn] == [(user, "ActiveWithError", None)]
    stream = events + improved + stuck + handwritten_stream()
    assert _same_with_and_without_quiet_paths(stream, monkeypatch) > 1000


@given(stream=streams())
@PROPERTY_SETTINGS
def test_quiet_membership_paths_decide_as_the_handlers_do_on_generated_streams(stream: list[dict[str, Any]]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_with_and_without_quiet_paths(stream, monkeypatch)
