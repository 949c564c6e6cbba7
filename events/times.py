"""RFC 3339 times (section 5.6's grammar, 5.7's restrictions): every event's `time`, and `licensing export --as-of`.

A time is a full date, `T`, a full time with optional fractional seconds, and `Z` or an offset: 2026-03-01T00:00:00Z,
2026-03-01T01:00:00.250+01:00. As RFC 3339 allows, `t` and `z` may be lowercase; a time is kept in upper case
(`canonical_time`), so that every time the log holds reads the same way to whatever compares or parses it later
(Python's `datetime.fromisoformat` reads every canonical time). Refused: what else ISO 8601 allows (a date alone, no
offset, a space for `T`, week dates), impossible values (month 13, 30 February, hour 25, offset +24:00), and two that
RFC 3339 allows but Python's datetime, like most of what reads these times, cannot represent: year 0000 and the leap
second 60.

Checked without the `datetime` module, which the decision core (a reader of events) may not import: it is a clock.
"""

from __future__ import annotations

import re

EXAMPLE = "2026-03-01T00:00:00Z"

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))", re.ASCII
).fullmatch

COMMON_TIMES = (
    r"[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
"""A regular expression of nearly every time `canonical_time` keeps as it is: upper case, valid in every month of
every year from 1000 (all but 29 February, whose validity depends on the year). ASCII digits and no look-around, so
that Python's `re` and pydantic-core's regex engine read it alike. Only the parser's fast path uses it, to take such
a time without calling Python (`events.records.keeps_values_matching`); what is a time is `canonical_time`'s answer."""

_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class TimeFormatError(ValueError):
    """Not an RFC 3339 time; the message says what is wrong in one line."""


def canonical_time(text: str) -> str:
    """The time as it is kept (`t` and `z` in upper case); raises TimeFormatError saying what is wrong with it."""
    match = _RFC3339(text)
    if match is None:
        raise TimeFormatError(
            f"{text!r} is not an RFC 3339 time: expected e.g. {EXAMPLE} (date, T, time, and Z or an offset "
            "such as +01:00)"
        )
    year, month, day, hour, minute, second = (int(field) for field in match.groups()[:6])
    offset_hours, offset_minutes = (int(field or 0) for field in match.groups()[6:])
    problem = _impossible(year, month, day, hour, minute, second, offset_hours, offset_minutes)
    if problem is not None:
        raise TimeFormatError(f"{text!r} is not a valid time: {problem}")
    return text.upper()


def _impossible(
    year: int, month: int, day: int, hour: int, minute: int, second: int, offset_hours: int, offset_minutes: int
) -> str | None:
    """What makes the fields of a time impossible (or unsupported), if anything."""
    if year == 0:
        return "the year 0000 is not supported"
    if not 1 <= month <= 12:
        return f"there is no month {month:02d}"
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS[month - 1] + (month == 2 and leap):
        return f"there is no day {day:02d} in {year:04d}-{month:02d}"
    if hour > 23:
        return f"there is no hour {hour:02d}"
    if minute > 59:
        return f"there is no minute {minute:02d}"
    if second == 60:
        return "the leap second 60 is not supported"
    if second > 60:
        return f"there is no second {second:02d}"
    if offset_hours > 23 or offset_minutes > 59:
        return "its UTC offset is out of range"
    return None
