"""Snapshots: tenant states stored as data (processor.statecodec), bound to today's catalogue when they are loaded.

A snapshot is a cache of the log: whatever is wrong with one (another version, another catalogue, a planted
blob) makes the runtime rebuild the tenant from the log, never run code or decide with a stale catalogue.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import processor.embedded.runtime as embedded
from events import parse_event
from processor.catalog_file import load_catalog_data, shipped_catalog
from processor.core.catalog import Catalog, build_catalog
from processor.core.decide import decide, decide_changes, new_tenant
from processor.core.state import Entry, Group, Settings, Subscription, TenantState, User
from processor.demo.generator import generate_demo_events
from processor.embedded.database import open_database
from processor.statecodec import (
    ENTRY_COLUMNS,
    GROUP_COLUMNS,
    SETTINGS_FIELDS,
    SUBSCRIPTION_FIELDS,
    TENANT_FIELDS,
    USER_COLUMNS,
    VERSION_BYTES,
    decode_state,
    encode_state,
    plan_additions,
    state_version,
)
from tests.properties.test_properties import PROPERTY_SETTINGS, streams

ENTERPRISEPACK = "6fd2c87f-b296-42f0-b197-1e91e994b900"
NEW_PLAN = "aaaaaaaa-0000-4000-8000-000000000001"


def _event(n: int, event_type: str, data: dict[str, Any], tenant: str = "contoso") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"extra-{n}",
        "source": "/test",
        "type": event_type,
        "time": f"2026-06-01T00:{n // 60:02d}:{n % 60:02d}Z",
        "tenant": tenant,
        "data": data,
    }


def _rich_events() -> list[dict[str, Any]]:
    """A demo tenant, then what the demo never does: vendor plan additions (a new plan, an existing plan into
    another SKU), masks past 64 bits (the new plan's bit is past the shipped catalogue's 72), versions at both
    ends of their range (0 .. 2**63 - 1)."""
    part = "ENTERPRISEPACK"
    extra = [
        ("ServicePlanAdded", {"skuId": "ENTERPRISEPACK", "servicePlanId": NEW_PLAN, "servicePlanName": "NEW_PLAN"}),
        ("ServicePlanAdded", {"skuId": "STANDARDPACK", "servicePlanId": NEW_PLAN, "servicePlanName": "NEW_PLAN"}),
        ("SubscriptionChanged", {"skuId": part, "prepaidUnits": {"enabled": 50}, "version": (1 << 63) - 1}),
        ("GroupCreated", {"groupId": "g-wide"}),
        ("GroupLicensesChanged", {"groupId": "g-wide", "addLicenses": [{"skuId": part, "disabledPlans": [NEW_PLAN]}]}),
        ("UserCreated", {"userId": "u-wide", "usageLocation": "US"}),
        ("GroupMemberAdded", {"groupId": "g-wide", "memberId": "u-wide", "version": (1 << 63) - 1}),
        ("UserUpdated", {"userId": "u-wide", "displayName": "Wide", "version": 0}),
    ]
    return generate_demo_events(users=300) + [_event(n, kind, data) for n, (kind, data) in enumerate(extra)]


def _decided(events: list[dict[str, Any]], catalog: Catalog | None = None) -> TenantState:
    state = new_tenant("contoso", catalog or shipped_catalog())
    for event in events:
        decide_changes(state, parse_event(json.dumps(event)))
    return state


def _masks(state: TenantState) -> list[int]:
    return [mask for user in state.users.values() for e in user.entries.values() for mask in (e.disabled, e.requested)]


# ---- the codec ----------------------------------------------------------------------------------------------


def test_a_state_with_plan_additions_wide_masks_and_wide_versions_decodes_equal() -> None:
    state = _decided(_rich_events())
    standard = shipped_catalog().resolve_sku("STANDARDPACK")
    assert standard is not None
    assert sorted(plan_additions(shipped_catalog(), state.catalog) or []) == sorted(
        [(ENTERPRISEPACK, NEW_PLAN, "NEW_PLAN"), (standard.sku_id, NEW_PLAN, "NEW_PLAN")]
    )
    assert max(_masks(state)) >= 1 << 64 and max(state.versions.values()) == (1 << 63) - 1
    assert min(state.versions.values()) == 0
    decoded = decode_state(encode_state(state), shipped_catalog())
    assert decoded == state
    assert decoded is not None and decoded.catalog.memo == {}  # the catalogue's caches were never stored


def test_shared_error_details_stay_shared() -> None:
    """The core shares one detail dict among the entries with the same problem; the decoded state does too."""
    state = _decided(generate_demo_events(users=300))
    details = [e.detail for u in state.users.values() for e in u.entries.values() if e.detail is not None]
    decoded = decode_state(encode_state(state), shipped_catalog())
    assert decoded is not None
    decoded_details = [e.detail for u in decoded.users.values() for e in u.entries.values() if e.detail is not None]
    assert len({id(d) for d in details}) < len(details)  # the demo shares some
    assert len({id(d) for d in decoded_details}) == len({id(d) for d in details})


@given(stream=streams(max_tenants=1), cut=st.floats(0, 1))
@PROPERTY_SETTINGS
def test_a_decoded_state_decides_the_rest_of_a_stream_as_the_original(stream: list[dict[str, Any]], cut: float) -> None:
    events = [parse_event(json.dumps(event)) for event in stream]
    at = int(len(events) * cut)
    original = new_tenant(events[0].tenant, shipped_catalog())
    for event in events[:at]:
        decide(original, event)
    decoded = decode_state(encode_state(original), shipped_catalog())
    assert decoded == original
    assert decoded is not None
    for event in events[at:]:
        assert decide(decoded, event) == decide(original, event)
    assert decoded == original


def test_the_codec_stores_every_field_of_the_state_classes() -> None:
    """A field added to a state class and not to the codec would be lost by every snapshot."""

    def names(cls: type) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    assert list(ENTRY_COLUMNS) == names(Entry)
    assert list(USER_COLUMNS) == names(User)
    assert list(GROUP_COLUMNS) == names(Group)
    assert list(TENANT_FIELDS) == names(TenantState)
    assert list(SETTINGS_FIELDS) == names(Settings)
    assert list(SUBSCRIPTION_FIELDS) == names(Subscription)


def test_a_blob_of_another_catalogue_or_layout_or_damaged_decodes_to_nothing() -> None:
    state = _decided(generate_demo_events(users=200))
    blob = encode_state(state)
    data = load_catalog_data()
    data["locationRestrictions"] = []
    upgraded = build_catalog(data)
    assert decode_state(blob, shipped_catalog()) == state
    assert decode_state(blob, upgraded) is None
    assert state_version(upgraded) != state_version(shipped_catalog())
    assert decode_state(bytes(VERSION_BYTES) + blob[VERSION_BYTES:], shipped_catalog()) is None
    assert decode_state(blob[: len(blob) // 2], shipped_catalog()) is None
    assert decode_state(blob[:VERSION_BYTES] + b"\x93\x01\x02\x03", shipped_catalog()) is None


def test_a_state_deciding_with_another_catalogue_is_only_decoded_with_that_one() -> None:
    data = load_catalog_data()
    data["locationRestrictions"] = []
    other = build_catalog(data)
    state = _decided(generate_demo_events(users=200), other)
    blob = encode_state(state)  # against the shipped catalogue by default, of which `other` is no extension
    assert decode_state(blob, shipped_catalog()) is None
    assert decode_state(blob, other) == state


# ---- the embedded runtime's snapshots ----------------------------------------------------------------------


def _snapshotted_runtime(db: Path, monkeypatch: pytest.MonkeyPatch, events: list[dict[str, Any]]) -> int:
    """Ingest the events with a snapshot taken at the end; the seq it covers."""
    monkeypatch.setattr(embedded, "SNAPSHOT_EVERY", 0)
    monkeypatch.setattr(embedded, "SNAPSHOT_AT_END_PER_ENTITY", 0)
    runtime = embedded.EmbeddedRuntime(open_database(db))
    runtime.ingest([("test", json.dumps(event).encode()) for event in events])
    (covered,) = runtime.conn.execute("SELECT event_seq FROM snapshots WHERE tenant = 'contoso'").fetchone()
    assert covered == len(events)
    runtime.conn.close()
    return int(covered)


class _CreatesFile:
    """Unpickling this object calls open(path, "w"): what a crafted snapshot could do with any callable."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return open, (str(self.path), "w")


def test_a_planted_pickle_snapshot_runs_nothing_and_the_tenant_is_rebuilt_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = generate_demo_events(users=200)
    db = tmp_path / "log.db"
    _snapshotted_runtime(db, monkeypatch, events)
    marker = tmp_path / "planted-code-ran"
    conn = open_database(db)
    (blob,) = conn.execute("SELECT state FROM snapshots WHERE tenant = 'contoso'").fetchone()
    planted = blob[:VERSION_BYTES] + pickle.dumps(_CreatesFile(marker))  # today's version header, then a pickle
    conn.execute("UPDATE snapshots SET state = ? WHERE tenant = 'contoso'", (planted,))

    runtime = embedded.EmbeddedRuntime(conn)
    state = runtime.tenant("contoso")
    assert not marker.exists()
    assert runtime._snapshotted["contoso"] == 0  # rebuilt from the log
    assert state == _decided(events)


def test_a_snapshot_is_bound_to_the_catalogue_of_the_runtime_that_loads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade of the catalogue data, a snapshotted tenant decides with the new catalogue, as a replay
    does: its snapshot (of the old catalogue's version) is set aside and the tenant rebuilt from the log."""
    events = generate_demo_events(users=300)
    db = tmp_path / "log.db"
    _snapshotted_runtime(db, monkeypatch, events)
    same = embedded.EmbeddedRuntime(open_database(db))
    assert same.tenant("contoso").catalog is shipped_catalog()  # bound to the runtime's catalogue, not a copy
    assert same._snapshotted["contoso"] == len(events)  # from the snapshot

    data = load_catalog_data()
    data["locationRestrictions"] = []  # the upgrade: calling plans are now offered everywhere
    upgraded = build_catalog(data)
    expected = _decided(events, upgraded)
    assert expected != _decided(events), "the upgrade must change decisions of the demo tenant"
    monkeypatch.setattr(embedded, "shipped_catalog", lambda: upgraded)
    runtime = embedded.EmbeddedRuntime(open_database(db))
    state = runtime.tenant("contoso")
    assert state.catalog is upgraded
    assert state == expected
    assert runtime._snapshotted["contoso"] == 0


def test_a_tenant_with_plan_additions_loads_from_its_snapshot_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _rich_events()
    db = tmp_path / "log.db"
    covered = _snapshotted_runtime(db, monkeypatch, events)
    runtime = embedded.EmbeddedRuntime(open_database(db))
    state = runtime.tenant("contoso")
    assert runtime._snapshotted["contoso"] == covered
    assert state == _decided(events)
    assert state.catalog.resolve_plan(NEW_PLAN) is not None
