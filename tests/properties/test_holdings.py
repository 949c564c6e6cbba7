"""Properties of the holdings index (processor.core.holdings) over generated streams: deciding with every user
indexed decides exactly what deciding with none does, and after every event each index matches its user's entries
and, where it knows what is pending, knows at least everything an evaluation would act on."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core import holdings
from processor.core.decide import decide, new_tenant
from processor.core.evaluation.user import desired_entries, licensed_sources
from processor.core.state import APPLIED_STATES, TenantState
from tests.properties.test_properties import HANDWRITTEN, PROPERTY_SETTINGS, streams
from tests.unit.test_many_groups import decided_both_ways

# Every switchable rule away from its default, so the index also meets silent skips and conversions to direct.
SETTINGS = {
    "releaseSeatOnSoftDelete": True,
    "proxyConflictMode": "silentSkip",
    "dependencyOnGroupRemoval": "convertToDirect",
    "groupPrereqPolicy": "disableDependentPlan",
}


@st.composite
def varied_streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    stream = draw(streams())
    if draw(st.booleans()):
        stream = copy.deepcopy(stream)
        for event in stream:
            if event["type"] == "TenantConfigured":
                event["data"]["settings"] = SETTINGS
    return stream


@PROPERTY_SETTINGS
@given(stream=varied_streams())
@example(stream=HANDWRITTEN)
def test_indexed_users_are_decided_as_users_without_an_index(stream: list[dict[str, Any]]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        (indexed, indexed_state), (full, full_state) = decided_both_ways(stream, monkeypatch)
    assert json.dumps(indexed) == json.dumps(full)
    assert indexed_state == full_state


@PROPERTY_SETTINGS
@given(stream=varied_streams())
@example(stream=HANDWRITTEN)
def test_each_index_matches_its_entries_after_every_event(stream: list[dict[str, Any]]) -> None:
    states: dict[str, TenantState] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(holdings, "INDEXED_FROM", 0)
        for event in stream:
            state = states.setdefault(event["tenant"], new_tenant(event["tenant"], shipped_catalog()))
            decide(state, parse_event(json.dumps(event)))
            for user in state.users.values():
                index = user.holdings
                if index is None:  # indexed at its first entry change
                    assert not user.entries, (event["id"], user.user_id)
                    continue
                masks: dict[str, dict[int, int]] = {}
                for entry in user.entries.values():
                    if entry.state in APPLIED_STATES:
                        counts = masks.setdefault(entry.sku_id, {})
                        counts[entry.disabled] = counts.get(entry.disabled, 0) + 1
                assert index.masks == masks, (event["id"], user.user_id)
                if index.pending is not None and not user.soft_deleted:
                    desired = desired_entries(user, licensed_sources(state, user))
                    assert index.pending >= holdings.unsettled(state.catalog, user, desired), (event, user.user_id)
