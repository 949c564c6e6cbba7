"""Output events on the wire: the envelope each one gets from its input event, and their one serialisation.

The core decides (type, data) pairs; their CloudEvents envelope (id `<cause>#<n>`, time, tenant…) follows from the
input event and the output's place among its outputs. The Kafka runtime publishes the enveloped events; the embedded
runtime stores and projects the pairs and rebuilds the envelopes only when it reads them back. Both encode with
`encode_output`, so their decisions are byte-identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

PROCESSOR_SOURCE = "/licensing-processor"

Output = tuple[str, dict[str, Any]]  # an output event before its envelope: (type, data)


def output_event(cause: str, n: int, event_type: str, time: str, tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    """The n-th output event of input event `cause`: its CloudEvents envelope is derived from the input event."""
    return {
        "specversion": "1.0",
        "id": f"{cause}#{n}",
        "source": PROCESSOR_SOURCE,
        "type": event_type,
        "time": time,
        "tenant": tenant,
        "datacontenttype": "application/json",
        "data": data,
    }


def encode_output(output: dict[str, Any]) -> bytes:
    """The one serialisation of an output event, shared by both runtimes (byte-identical decisions)."""
    return orjson.dumps(output)


def encode_outputs(outputs: list[Output]) -> bytes:
    """One input event's outputs as the embedded decisions log stores them: a JSON array of [type, data].

    The envelopes are left out (40 % of the bytes) because `decode_outputs` rebuilds them from the input event;
    orjson is deterministic, so a rebuilt output encodes to exactly the bytes `encode_output` gave the original.
    """
    return orjson.dumps(outputs)


def enveloped(cause: str, time: str, tenant: str, outputs: Iterable[Output]) -> list[dict[str, Any]]:
    """The output events of input event `cause`, in their CloudEvents envelopes, from its (type, data) pairs."""
    return [output_event(cause, n, event_type, time, tenant, data) for n, (event_type, data) in enumerate(outputs)]


def decode_outputs(cause: str, time: str, tenant: str, stored: bytes) -> list[dict[str, Any]]:
    """The enveloped output events of input event `cause` from what `encode_outputs` stored."""
    return enveloped(cause, time, tenant, orjson.loads(stored))
