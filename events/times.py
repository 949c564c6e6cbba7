"""RFC 3339 times (section 5.6's grammar, 5.7's restrictions): every event's `time`, and `licensing export --as-of`.

A time is a full date, `T`, a full time with optional fractional seconds, and `Z` or an offset: 2026-03-01T00:00:00Z,
2026-03-01T01:00:00.250+01:00. As RFC 3339 allows, `t` and `z` may be lowercase; an event's time is kept in upper
case (`canonical_time`), so every time the log holds reads the same way to whatever compares or parses it later.
Refused: anything else ISO 8601 allows (a date alone, no offset, a space for `T`, week dates), impossible values
(month 13, 30 February, hour 25, offset +24:00), year 0000 and the leap second 60, which Python's datetime, like most
of what reads these times, cannot represent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

EXAMPLE = "2026-03-01T00:00:00Z"

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))", re.ASCII
)

COMMON_TIMES = (
    r"[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
"""A regular expression of nearly every time `canonical_time` keeps as it is: upper case, valid in every month of
every year from 1000 (all but 29 February, whose validity depends on the year). ASCII digits and no look-around, so
that Python's `re` and pydantic-core's regex engine read it alike. Only the parser's fast path uses it, to take such
a time without calling Python (`events.records.keeps_values_matching`); what is a time is `parse_time`'s answer."""


class TimeFormatError(ValueError):
    """Not an RFC 3339 time; the message says what is wrong in one line."""


def canonical_time(text: str) -> str:
    """The time as an event keeps it (`t`, `z` in upper case); raises TimeFormatError for anything not a time."""
    parse_time(text)
    return text.upper()


def parse_time(text: str) -> datetime:
    """The moment of an RFC 3339 time (fractional seconds past the microsecond are dropped, as Python's
    `datetime.fromisoformat` drops them); raises TimeFormatError saying what is wrong."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise TimeFormatError(
            f"{text!r} is not an RFC 3339 time: expected e.g. {EXAMPLE} (date, T, time, and Z or an offset "
            "such as +01:00)"
        )
    year, month, day, hour, minute, second, fraction, sign, offset_hours, offset_minutes = match.groups()
    if second == "60":
        raise TimeFormatError(f"{text!r}: the leap second 60 is not supported")
    if sign is None:
        zone = UTC
    elif int(offset_hours) > 23 or int(offset_minutes) > 59:
        raise TimeFormatError(f"{text!r} is not a valid time: its UTC offset is out of range")
    else:
        offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        zone = timezone(-offset if sign == "-" else offset)
    microsecond = int((fraction or "").ljust(6, "0")[:6])
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond, tzinfo=zone)
    except ValueError as exc:  # e.g. "month must be in 1..12", "day is out of range for month"
        raise TimeFormatError(f"{text!r} is not a valid time: {exc}") from None
