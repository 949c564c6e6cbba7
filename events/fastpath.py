"""The fast path of `parse_event`: msgspec decodes lines straight into records, for lines pydantic would plainly accept.

Why: on the project VM (Python 3.11 without PGO), pydantic takes ~2.6 us to validate a GroupMemberAdded line into two
models and ~0.7 us more to free them; orjson and a generated check of the dicts it decoded took ~2.3 and ~0.4. msgspec
decodes the line into its two records in C (~0.7 us), and pydantic-core's test of the envelope's `time` against the
pattern of common RFC 3339 times follows (~0.1 us); freeing them is ~0.15 us.

Sound, not complete: this returns an event only for a line that `input_event_adapter` (pydantic, the validator of
record) accepts, with the same values; for anything else it returns None and the caller asks pydantic, so which lines
are rejected, and why, is pydantic's answer alone. The record types msgspec decodes into are translated from
pydantic's own compiled core schema (`events.records`), and an event type with a construct not translated (a model
validator) is left to pydantic. What the two parsers read alike:

- msgspec and pydantic's parser (jiter) agree on the JSON msgspec accepts: the same strings (escapes, surrogate
  pairs, UTF-8) and numbers (an int field takes no `1.0` or `1e2` in either); the last of duplicate keys wins in both.
  What msgspec refuses (lone surrogates, control characters, NaN, Infinity, a BOM, invalid UTF-8, a repeated `type`)
  goes to pydantic;
- keys that are not fields are ignored by both (the models' extra='ignore'), but only pydantic's parser limits how
  deep their values nest (`may_nest_too_deep`);
- `pattern`s are tested by pydantic-core itself after decoding, and so is, for a string's after-validator (the
  `time`), the pattern of the values it keeps as they are (`Record._checks`, `events.records.keeps_values_matching`).

tests/test_parse_speed_equivalence.py checks all this line by line against pydantic.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from events import inputs
from events.records import UNSET, Record
from events.wire import INPUT_TYPES

DECODABLE: tuple[type[Record], ...] = tuple(
    cls for cls in (getattr(inputs, event_type) for event_type in INPUT_TYPES) if cls._decodable
)
"""The input event types msgspec decodes (tagged by `type`); lines of the others always go to pydantic."""

decode: Any = msgspec.json.Decoder(Union[DECODABLE]).decode
"""A line (bytes or str) to its record; raises one of DECODE_FAILURES for anything not decodable."""

# ValueError: invalid UTF-8 (UnicodeDecodeError); RecursionError: nesting, were a deep line let through.
DECODE_FAILURES = (msgspec.DecodeError, ValueError, RecursionError)

# pydantic's parser refuses a line nested deeper than 200 levels, while msgspec skips the value of a key that is not a
# field however deep it goes: a line that might nest this deep goes to pydantic.
NESTING = 128


def may_nest_too_deep(raw: bytes | str) -> bool:
    """Whether the line might nest NESTING levels or more: a line shorter than twice that cannot (every level opens
    and closes), a longer one is counted (brackets inside strings count too, which only sends more to pydantic)."""
    if len(raw) < 2 * NESTING:
        return False
    if isinstance(raw, bytes):
        return raw.count(b"[") + raw.count(b"{") >= NESTING
    return raw.count("[") + raw.count("{") >= NESTING


def parse_fast(raw: bytes | str) -> Record | None:
    """The event of a line pydantic plainly accepts, or None: not vouched for here, pydantic decides."""
    if len(raw) >= 2 * NESTING and may_nest_too_deep(raw):  # a shorter line cannot nest that deep
        return None
    try:
        event: Record = decode(raw)
    except DECODE_FAILURES:
        return None
    for value_at, accepts in event._checks:
        value = value_at(event)
        if value is not None and value is not UNSET and not accepts(value):
            return None
    return event
