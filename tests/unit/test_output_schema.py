"""Every output event the core emits in the SPEC scenarios matches the published output models (CONTRACT §3)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events.outputs import OUTPUT_MODELS, output_event_adapter
from tests.dsl import Scenario


def _busy_scenario() -> Scenario:
    s = Scenario(mode="improved")
    s.direct("u1", add=["E1"])
    s.group("G_E3", "E3")
    s.add("G_E3", "u1", "u2", "u3", "u4", "u5")
    s.group("G_AC", ("E3", ["SWAY"]), "AC")
    s.assign("G_AC", add=["AC"], remove=["E3"])
    s.direct("u3", add=["E3"])
    s.update_user("u4", proxyAddresses=["smtp:bob@contoso.com"])
    s.send("UserDeleted", userId="u6", permanent=True)
    s.send("GroupDeleted", groupId="G_E3")
    s.remove("G_E3", "u2")
    s.capacity("E3", 10)
    return s


def test_every_emitted_output_matches_its_model() -> None:
    s = _busy_scenario()
    seen = set()
    for output in s.outputs:
        output_event_adapter.validate_python(output)
        seen.add(output["type"])
    assert {
        "LicenseAssignmentStateChanged",
        "CommandRejected",
        "GroupLicenseProcessingChanged",
        "ProductUsageChanged",
    } <= seen


def test_output_ids_are_unique_and_derived_from_the_cause() -> None:
    s = _busy_scenario()
    ids = [o["id"] for o in s.outputs]
    assert len(ids) == len(set(ids))
    assert all(o["id"].startswith(o["data"]["causedBy"] + "#") for o in s.outputs)


def test_the_schema_rejects_an_output_missing_a_required_field() -> None:
    s = _busy_scenario()
    change = next(o for o in s.outputs if o["type"] == "LicenseAssignmentStateChanged")
    broken = {**change, "data": {k: v for k, v in change["data"].items() if k != "previousState"}}
    with pytest.raises(ValidationError):
        OUTPUT_MODELS["LicenseAssignmentStateChanged"].model_validate(broken)


def test_the_embedded_decisions_log_gives_back_the_exact_output_bytes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The log stores outputs without envelopes; reading it must rebuild byte for byte what the core emitted."""
    import orjson

    from processor.core.outputs import encode_output
    from processor.embedded.database import open_database
    from processor.embedded.runtime import EmbeddedRuntime, decision_rows

    s = _busy_scenario()
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    runtime.ingest((f"line {n}", orjson.dumps(event)) for n, event in enumerate(s.events))
    assert [body for _, _, body in decision_rows(runtime.conn)] == [encode_output(o) for o in s.outputs]
