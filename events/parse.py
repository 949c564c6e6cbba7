"""One JSON line in, a typed input event or a one-line reason out (never an exception for bad input)."""

from __future__ import annotations

from pydantic import ValidationError

from events.fastpath import parse_fast
from events.inputs import InputEvent
from events.records import to_record
from events.wire import INPUT_TYPES, input_event_adapter


class ParseError(ValueError):
    """Why a line is not an applicable event; `reason` is one line meant for the dead-letter store."""

    def __init__(self, reason: str, tenant: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tenant = tenant


# The validator itself, without TypeAdapter's per-call Python wrapper (~0.15 us a line).
_validate_json = input_event_adapter.validator.validate_json


def parse_event(raw: bytes | str) -> InputEvent:
    # Most lines are plainly valid events of the types msgspec decodes into records, with pydantic-core's tests of
    # their patterns after it (events/fastpath.py). Every other line, valid or not, is validated by pydantic, the
    # validator of record, whose errors give the reasons; its models are then turned into the same records.
    event = parse_fast(raw)
    if event is not None:
        return event  # type: ignore[return-value]
    try:
        model = _validate_json(raw)
    except ValidationError as exc:
        raise ParseError(_one_line(exc), _tenant_of(raw)) from None
    return to_record(model)  # type: ignore[no-any-return]


def _one_line(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    kind = first["type"]
    if kind == "json_invalid":
        return f"not valid JSON: {first.get('ctx', {}).get('error', first['msg'])}"
    if kind == "union_tag_invalid":
        tag = first.get("ctx", {}).get("tag")
        return f"unknown type {tag!r}; expected one of {', '.join(INPUT_TYPES)}"
    if kind == "union_tag_not_found":
        return "missing attribute 'type'"
    if kind == "model_type" and not first["loc"]:
        return "not a JSON object"
    # The discriminator tag is the first location element; the rest is the path inside the event.
    path = ".".join(str(p) for p in first["loc"][1:]) or "(event)"
    message = f"{path}: {first['msg']}"
    if kind == "missing":
        message = f"missing attribute '{path}'"
    more = len(errors) - 1
    return message + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def _tenant_of(raw: bytes | str) -> str | None:
    """Best-effort tenant of a rejected line, so a dead letter can still be attributed."""
    import json

    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser recurses
        return None
    tenant = value.get("tenant") if isinstance(value, dict) else None
    return tenant if isinstance(tenant, str) else None
