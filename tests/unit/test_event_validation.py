"""What `parse_event` lets in: RFC 3339 times (impossible ones dead-lettered with their reason) and bounded integers
(no number a 64-bit store cannot hold)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.parse import ParseError, parse_event
from events.times import COMMON_TIMES, TimeFormatError, canonical_time
from events.wire import MAX_SEATS, MAX_VERSION


def line(event_type: str = "SubscriptionChanged", time: str = "2026-01-05T08:00:00Z", **data: Any) -> str:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": "e-1",
            "source": "/test",
            "type": event_type,
            "time": time,
            "tenant": "t1",
            "data": data or {"skuId": "E3"},
        }
    )


def reason(raw: str) -> str:
    with pytest.raises(ParseError) as caught:
        parse_event(raw)
    return caught.value.reason


# ---- times ------------------------------------------------------------------------------------------------------

VALID = {
    "2026-01-05T08:00:00Z": datetime(2026, 1, 5, 8, tzinfo=UTC),
    "2026-01-05t08:00:00z": datetime(2026, 1, 5, 8, tzinfo=UTC),
    "2026-01-05T08:00:00.5+01:00": datetime(2026, 1, 5, 7, 0, 0, 500000, tzinfo=UTC),
    "2026-01-05T08:00:00.1234567-05:30": datetime(2026, 1, 5, 13, 30, 0, 123456, tzinfo=UTC),
    "2026-01-05T08:00:00-00:00": datetime(2026, 1, 5, 8, tzinfo=UTC),
    "2024-02-29T23:59:59+23:59": datetime(2024, 2, 29, 0, 0, 59, tzinfo=UTC),
    "2000-02-29T00:00:00Z": datetime(2000, 2, 29, tzinfo=UTC),
    "2026-12-31T23:59:59Z": datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    "0001-01-01T00:00:00Z": datetime(1, 1, 1, tzinfo=UTC),
}
INVALID = {
    "2026-13-45T25:61:61Z": "there is no month 13",
    "2026-00-05T08:00:00Z": "there is no month 00",
    "2026-02-29T08:00:00Z": "there is no day 29 in 2026-02",
    "1900-02-29T08:00:00Z": "there is no day 29 in 1900-02",
    "2026-04-31T08:00:00Z": "there is no day 31 in 2026-04",
    "2026-01-00T08:00:00Z": "there is no day 00",
    "2026-01-05T24:00:00Z": "there is no hour 24",
    "2026-01-05T08:60:00Z": "there is no minute 60",
    "2026-01-05T08:00:60Z": "leap second",
    "2026-01-05T08:00:61Z": "there is no second 61",
    "0000-01-01T00:00:00Z": "year 0000",
    "2026-01-05T08:00:00+24:00": "offset",
    "2026-01-05T08:00:00+05:60": "offset",
    "2026-01-05T08:00:00": "not an RFC 3339 time",  # no offset
    "2026-01-05 08:00:00Z": "not an RFC 3339 time",  # a space for T
    "2026-01-05": "not an RFC 3339 time",
    "2026-01-05T08:00Z": "not an RFC 3339 time",
    "2026-01-05T08:00:00.Z": "not an RFC 3339 time",
    "2026-01-05T08:00:00+0100": "not an RFC 3339 time",
    "2026-W02-1T08:00:00Z": "not an RFC 3339 time",
    "\uff12026-01-05T08:00:00Z": "not an RFC 3339 time",  # a full-width digit
    "2026-01-05T08:00:00Z ": "not an RFC 3339 time",
    "": "not an RFC 3339 time",
}


def moment(text: str) -> datetime:
    """How Python reads a time (the embedded store's --as-of rebuild reads the log's times so)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("text", VALID)
def test_an_rfc_3339_time_is_accepted_kept_in_upper_case_and_readable(text: str) -> None:
    kept = parse_event(line(time=text)).time
    assert kept == text.upper() == canonical_time(text)
    assert moment(kept) == VALID[text]


@pytest.mark.parametrize("text", INVALID)
def test_an_impossible_or_non_rfc_3339_time_is_dead_lettered_with_what_is_wrong(text: str) -> None:
    why = reason(line(time=text))
    assert why.startswith("time: ") and INVALID[text] in why, why
    assert "\n" not in why
    with pytest.raises(TimeFormatError, match="expected e.g. 2026-03-01T00:00:00Z|not a valid time"):
        canonical_time(text)


@settings(max_examples=500, deadline=None)
@given(st.from_regex(f"^(?:{COMMON_TIMES})$", fullmatch=True))
def test_every_common_time_is_valid_and_kept_as_it_is(text: str) -> None:
    """The fast path takes a time that pattern matches without asking the validator: it must keep it."""
    assert canonical_time(text) == text


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), st.integers(-1439, 1439))
def test_a_written_datetime_reads_back_as_the_same_moment(written: datetime, offset_minutes: int) -> None:
    aware = written.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    text = aware.isoformat()
    assert canonical_time(text) == text
    assert moment(canonical_time(text.replace("+00:00", "z").replace("T", "t"))) == aware


GRAMMAR = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"


@settings(max_examples=500, deadline=None)
@given(st.from_regex(f"^{GRAMMAR}$", fullmatch=True))
def test_a_time_is_accepted_exactly_when_python_reads_it(text: str) -> None:
    """Of the strings RFC 3339's grammar allows, those accepted are those Python's datetime reads, but for offset
    minutes past 59, which Python carries over into the hour and RFC 3339 does not allow."""
    try:
        kept = canonical_time(text)
    except TimeFormatError:
        kept = None
    try:
        read = moment(text.upper())
    except ValueError:
        read = None
    if kept is not None:
        assert read is not None and moment(kept) == read
    elif read is not None:
        assert int(text[-2:]) > 59, text


# ---- integers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["enabled", "warning", "suspended", "lockedOut"])
def test_seat_counts_are_bounded(field: str) -> None:
    assert getattr(parse_event(line(skuId="E3", prepaidUnits={field: MAX_SEATS})).data.prepaidUnits, field) == 10**9
    for huge in (MAX_SEATS + 1, 2**63, 2**64, 10**30):
        assert "less than or equal to 1000000000" in reason(line(skuId="E3", prepaidUnits={field: huge}))


@pytest.mark.parametrize(
    "event_type, data",
    [
        ("SubscriptionChanged", {"skuId": "E3"}),
        ("UserUpdated", {"userId": "u1"}),
        ("GroupMemberAdded", {"groupId": "g1", "memberId": "u1"}),
        ("GroupMemberRemoved", {"groupId": "g1", "memberId": "u1"}),
        ("GroupLicensesChanged", {"groupId": "g1"}),
    ],
)
def test_versions_are_bounded_to_a_signed_64_bit_integer(event_type: str, data: dict[str, Any]) -> None:
    assert parse_event(line(event_type, **data, version=0)).data.version == 0
    assert parse_event(line(event_type, **data, version=MAX_VERSION)).data.version == 2**63 - 1
    assert "less than or equal to 9223372036854775807" in reason(line(event_type, **data, version=2**63))
    assert "greater than or equal to 0" in reason(line(event_type, **data, version=-1))
