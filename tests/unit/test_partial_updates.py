"""Partial updates (CONTRACT §2): a clearable field left out keeps the value, given as null clears it.

Through `parse_event`, as every runtime feeds the core: absence reaches the core as UNSET (events.wire.CLEARABLE).
"""

from __future__ import annotations

import json
from typing import Any

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide, new_tenant
from processor.core.state import TenantState
from tests.dsl import cloud_event

_counter = iter(range(1, 1_000_000))


def _apply(tenant: TenantState, event_type: str, data: dict[str, Any]) -> None:
    line = cloud_event(tenant.tenant_id, next(_counter), event_type, data, at="2026-01-05T08:00:00Z")
    decide(tenant, parse_event(json.dumps(line)))


def test_tenant_country_is_kept_when_left_out_and_cleared_by_null() -> None:
    tenant = new_tenant("t1", shipped_catalog())
    _apply(tenant, "TenantConfigured", {"countryLetterCode": "de"})
    assert tenant.country == "DE"
    _apply(tenant, "TenantConfigured", {"mode": "improved"})
    assert tenant.country == "DE" and tenant.mode == "improved"
    _apply(tenant, "TenantConfigured", {"countryLetterCode": None})
    assert tenant.country is None


def test_user_location_is_kept_when_left_out_and_cleared_by_null() -> None:
    tenant = new_tenant("t1", shipped_catalog())
    _apply(tenant, "UserCreated", {"userId": "u1", "usageLocation": "us"})
    _apply(tenant, "UserUpdated", {"userId": "u1", "displayName": "U"})
    assert tenant.users["u1"].usage_location == "US" and tenant.users["u1"].display_name == "U"
    _apply(tenant, "UserUpdated", {"userId": "u1", "usageLocation": None})
    assert tenant.users["u1"].usage_location is None
