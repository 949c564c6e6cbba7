"""Guards for the decision core's speed-ups: what they spell out twice must stay the same."""

from __future__ import annotations

from pathlib import Path

from events import parse_event
from processor.context import output_event
from processor.decide import decide, new_tenant
from processor.state import TenantState

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart.jsonl"


def test_emitted_envelopes_are_output_event_envelopes() -> None:
    """EventContext.emit builds the envelope inline; decode_outputs rebuilds it with output_event."""
    tenants: dict[str, TenantState] = {}
    outputs = 0
    for line in QUICKSTART.read_bytes().splitlines():
        event = parse_event(line)
        tenant = tenants.setdefault(event.tenant, new_tenant(event.tenant))
        for n, output in enumerate(decide(tenant, event).outputs):
            rebuilt = output_event(event.id, n, output["type"], event.time, event.tenant, output["data"])
            assert list(output.items()) == list(rebuilt.items())  # same keys, same order, same values
            outputs += 1
    assert outputs > 0
