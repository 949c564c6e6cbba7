"""`parse_event` (msgspec fast path + records) gives exactly what the validator of record, pydantic, gives.

The reference is the former `parse_event`: `input_event_adapter.validate_json` into pydantic models, or a `ParseError`
with `_one_line` of its error. For every line of generated event streams, of hand-made malformed variants and of
random mutations, the new `parse_event` must return a record of the same class name equal in every attribute to the
reference model (a clearable field the input left out reads UNSET), or raise the same reason and tenant; and the fast
path alone must never accept a line the reference rejects, nor give other values.
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bench.workload import Workload
from events import inputs as ev
from events.fastpath import DECODABLE, parse_fast
from events.parse import ParseError, _one_line, _tenant_of, parse_event
from events.records import UNSET
from events.wire import CLEARABLE, INPUT_TYPES, input_event_adapter
from processor.demo.generator import MIN_USERS, generate_demo_events


def reference(raw: bytes | str) -> BaseModel | Exception:
    """The parse before the fast path: pydantic models, or the reason and tenant of the rejection."""
    try:
        return input_event_adapter.validate_json(raw)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return ParseError(_one_line(exc), _tenant_of(raw))


def assert_same(record: Any, model: Any, path: str = "event") -> None:
    """`record` (from parse_event) equals `model` (from pydantic) in class and every attribute; a clearable field
    reads UNSET exactly when the input left it out."""
    if isinstance(model, BaseModel):
        assert type(record) is getattr(ev, type(model).__name__), path  # the class importable from events.inputs
        for name in type(model).model_fields:
            if name in CLEARABLE.get(type(model), ()) and name not in model.model_fields_set:
                assert getattr(record, name) is UNSET, f"{path}.{name}"
                continue
            assert_same(getattr(record, name), getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        assert type(record) is list and len(record) == len(model), path
        for n, (item, expected) in enumerate(zip(record, model)):
            assert_same(item, expected, f"{path}[{n}]")
    else:
        assert type(record) is type(model) and record == model, f"{path}: {record!r} != {model!r}"


def check_line(raw: bytes | str) -> bool:
    """Assert the new parse agrees with the reference on `raw`; True if the fast path took the line."""
    expected = reference(raw)
    fast = parse_fast(raw)
    if isinstance(expected, ParseError):
        assert fast is None, f"fast path accepted a line pydantic rejects ({expected.reason}): {raw!r}"
        with pytest.raises(ParseError) as caught:
            parse_event(raw)
        assert (caught.value.reason, caught.value.tenant) == (expected.reason, expected.tenant), raw
        return False
    if isinstance(expected, Exception):
        assert fast is None
        with pytest.raises(type(expected)):
            parse_event(raw)
        return False
    event = parse_event(raw)
    assert_same(event, expected)
    if fast is not None:
        assert_same(fast, expected)
    return fast is not None


# ---- generated streams ------------------------------------------------------------------------------------------


def test_bench_workload_lines_parse_as_before() -> None:
    lines = list(Workload(users=300, groups=20, events=3000, seed=5).lines())
    fast = sum(check_line(line.encode()) for line in lines)
    for line in lines[:300]:
        check_line(line)  # str input too
    assert fast >= 0.9 * len(lines), "the fast path no longer takes the common events"


def test_demo_tenant_events_parse_as_before() -> None:
    for event in generate_demo_events(seed=3, users=MIN_USERS):
        check_line(json.dumps(event).encode())  # ASCII escapes, spaces after separators
        check_line(json.dumps(event, ensure_ascii=False, separators=(",", ":")))


def test_common_times_take_the_fast_path_and_rare_ones_are_left_to_pydantic() -> None:
    for time in ["2026-01-31T08:00:00Z", "2026-04-30T23:59:59.5+01:00", "2026-12-31T00:00:00-05:30"]:
        assert parse_fast(line(time=time)) is not None, time
    for time in ["2024-02-29T08:00:00Z", "2026-01-05t08:00:00z"]:
        assert parse_fast(line(time=time)) is None, time
        assert parse_event(line(time=time)).time == time.upper()


def test_the_hot_event_types_have_a_fast_parser() -> None:
    decodable = {cls.__name__ for cls in DECODABLE}
    assert {"GroupMemberAdded", "GroupMemberRemoved", "UserCreated", "UserUpdated"} <= decodable
    assert "LicenseReprocessRequested" not in decodable  # its model validator is pydantic's alone
    assert decodable <= set(INPUT_TYPES)


# ---- malformed variants -----------------------------------------------------------------------------------------

ENVELOPE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/test",
    "time": "2026-01-05T08:00:00.5Z",
    "tenant": "t1",
}
FULL_DATA: dict[str, dict[str, Any]] = {
    "TenantConfigured": {
        "countryLetterCode": "us",
        "mode": "improved",
        "ruleset": "current-2023",
        "settings": {
            "groupPrereqPolicy": "reject",
            "dependencyOnGroupRemoval": "convertToDirect",
            "proxyConflictMode": "silentSkip",
            "allowedGroupKinds": ["security", "m365"],
            "releaseSeatOnSoftDelete": True,
            "errorEnumSpelling": "Others",
        },
    },
    "SubscriptionChanged": {
        "skuId": "ENTERPRISEPACK",
        "prepaidUnits": {"enabled": 5, "warning": 1, "suspended": 0, "lockedOut": 2},
        "version": 3,
    },
    "ServicePlanAdded": {"skuId": "E3", "servicePlanId": "p-1", "servicePlanName": "EXCHANGE"},
    "UserCreated": {
        "userId": "u1",
        "userPrincipalName": "u1@x",
        "displayName": "U",
        "usageLocation": "US",
        "proxyAddresses": ["SMTP:a@x", "smtp:b@x"],
        "accountEnabled": False,
    },
    "UserUpdated": {
        "userId": "u1",
        "usageLocation": "de",
        "proxyAddresses": [],
        "accountEnabled": True,
        "displayName": "V",
        "version": 2,
    },
    "UserDeleted": {"userId": "u1", "permanent": True},
    "UserRestored": {"userId": "u1"},
    "GroupCreated": {"groupId": "g1", "displayName": "G", "kind": "m365", "securityEnabled": False},
    "GroupDeleted": {"groupId": "g1"},
    "GroupMemberAdded": {"groupId": "g1", "memberId": "u1", "memberType": "group", "version": 7},
    "GroupMemberRemoved": {"groupId": "g1", "memberId": "u1", "version": 8},
    "GroupLicensesChanged": {
        "groupId": "g1",
        "addLicenses": [{"skuId": "E3", "disabledPlans": ["p-1"]}, {"skuId": "EMS"}],
        "removeLicenses": ["E1"],
        "version": 1,
    },
    "UserLicensesChanged": {"userId": "u1", "addLicenses": [{"skuId": "E3"}], "removeLicenses": []},
    "LicenseReprocessRequested": {"groupId": "g1"},
}
WRONG: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.0,
    1.5,
    2**70,
    -(2**64),
    "",
    "x",
    "US",
    "usa",
    "user",
    "group",
    "security",
    "1.0",
    "🙂",
    "application/json",
    "2026-01-05T08:00:00Z",
    [],
    ["x"],
    [1],
    [None],
    [{"skuId": "E3"}],
    {},
    {"a": 1},
    {"skuId": "E3"},
]


def event(event_type: str, data: dict[str, Any] | None = None, **envelope: Any) -> dict[str, Any]:
    body = {**ENVELOPE, "type": event_type, **envelope}
    body["data"] = copy.deepcopy(FULL_DATA[event_type] if data is None else data)
    return body


def variants(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The event with each attribute (envelope, data, one level below) removed, or replaced by each wrong value,
    or with an extra attribute next to it."""
    out = []
    paths: list[tuple[Any, ...]] = [(key,) for key in body]
    for key, value in body["data"].items():
        paths.append(("data", key))
        if isinstance(value, dict):
            paths += [("data", key, inner) for inner in value]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            paths += [("data", key, 0, inner) for inner in value[0]]
    for path in paths:
        for replacement in [_DELETE, *WRONG]:
            changed = copy.deepcopy(body)
            parent = changed
            for step in path[:-1]:
                parent = parent[step]
            if replacement is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            out.append(changed)
    for where in ((), ("data",)):
        changed = copy.deepcopy(body)
        target = changed
        for step in where:
            target = target[step]
        if isinstance(target, dict):
            target["publisherField"] = {"nested": [1, 2.5, None]}  # ignored by pydantic
            out.append(changed)
    return out


_DELETE = object()


@pytest.mark.parametrize("event_type", INPUT_TYPES)
def test_every_attribute_removed_or_wrong_is_judged_as_before(event_type: str) -> None:
    full = event(event_type)
    assert not isinstance(reference(json.dumps(full)), ParseError)
    for body in [full, *variants(full)]:
        check_line(json.dumps(body).encode())
    minimal = {key: value for key, value in FULL_DATA[event_type].items() if key in ("userId", "groupId", "skuId")}
    check_line(json.dumps(event(event_type, minimal)))


def line(**envelope: Any) -> bytes:
    return json.dumps(event("GroupMemberAdded", {"groupId": "g1", "memberId": "u1"}, **envelope)).encode()


GOOD = line().decode()
GMA_TEXT = '{"specversion":"1.0","id":"e1","source":"/s","type":"GroupMemberAdded","time":"2026-01-05T08:00:00Z",'
RAW_LINES: list[bytes | str] = [
    # not JSON, or not an object
    b"",
    b"   ",
    b"{",
    b'{"specversion": "1.0", "id": "bad-json", "type": "UserCreated", "tenant": "fab',
    GOOD[:-1],
    GOOD + "}",
    GOOD + " x",
    GOOD.replace("}}", "},}"),
    b"[]",
    b"null",
    b"1",
    b'"GroupMemberAdded"',
    b"[" + GOOD.encode() + b"]",
    "\ufeff" + GOOD,
    "\x0b" + GOOD,
    GOOD + "\n",
    " \t\r\n" + GOOD + " \r\n",
    GOOD.encode() + b"\x00",
    GOOD.encode().replace(b'"u1"', b'"\xff"'),
    GOOD.encode().replace(b'"u1"', b'"\xed\xa0\x80"'),
    # numbers and strings orjson and pydantic's parser might read differently
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","version":-0}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","version":1e2}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","version":1.0}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","version":18446744073709551615}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","version":18446744073709551616}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","version":-9223372036854775809}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","version":01}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","x":NaN}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","x":-Infinity}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","x":1e400}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","x":' + "[" * 300 + "]" * 300 + "}}",
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u","x":' + "[" * 2000 + "]" * 2000 + "}}",
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"\\ud800"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"\\ud83d\\ude00"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"a\\u0000b\\/c\\"d\\\\"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"a\x01b"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"a\x7fb"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"a\\xb"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","member\\u0049d":"u"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u1","memberId":"u2"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u1","memberId":2}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":2,"memberId":"u1"}}',
    GMA_TEXT + '"tenant":"t","tenant":"t2","data":{"groupId":"g","memberId":"u"}}',
    GMA_TEXT + '"tenant":"t","type":"UserCreated","data":{"groupId":"g","memberId":"u"}}',
    GMA_TEXT.replace('"type":"GroupMemberAdded"', '"type":"UserCreated","type":"GroupMemberAdded"')
    + '"tenant":"t","data":{"groupId":"g","memberId":"u"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u"},"data":{"groupId":"g2","memberId":"u"}}',
    GMA_TEXT + '"tenant":"t","data":{"groupId":"g","memberId":"u"},"data":5}',
]
TIMES = [
    "2026-01-05",
    "2026-01-05T08:00:00",
    "2026-01-05 08:00:00Z",
    "2026-01-05T08:00:00Z\n",
    "\n2026-01-05T08:00:00Z",
    "2026-01-05T08:00:00.Z",
    "2026-01-05T08:00:00.123456789012Z",
    "2026-01-05T08:00:00+01:00",
    "2026-01-05T08:00:00.5-05:30",
    "2026-01-05T08:00:00z",
    "\u0662026-01-05T08:00:00Z",  # an Arabic-Indic digit: pydantic's regex engine decides
    "２026-01-05T08:00:00Z",
    "2026-13-45T99:99:99Z",
    # RFC 3339 read by a real parser: lower case, calendars, ranges, offsets, digits that are not ASCII
    "2026-01-05t08:00:00z",
    "2026-01-05T08:00:00z",
    "2026-01-05t08:00:00+01:00",
    "2024-02-29T08:00:00Z",
    "2026-02-29T08:00:00Z",
    "2026-04-30T08:00:00Z",
    "2026-04-31T08:00:00Z",
    "2026-01-31T08:00:00.25-00:00",
    "0999-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999+23:59",
    "2026-01-05T23:59:60Z",
    "2026-01-05T24:00:00Z",
    "2026-01-05T08:00:00+24:00",
    "2026-01-05T08:00:00+05:60",
    "2026-13-45T25:61:61Z",
    "2026-01-0\u0665T08:00:00Z",
    "2026-01-05T08:00:00.\u0665Z",
    "2026-01-05T08:00:00+0\u0661:00",
]


@pytest.mark.parametrize("raw", RAW_LINES, ids=range(len(RAW_LINES)))
def test_raw_lines_are_judged_as_before(raw: bytes | str) -> None:
    check_line(raw)
    check_line(raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw.encode("utf-8", "replace"))


def test_envelope_variants_are_judged_as_before() -> None:
    for time in TIMES:
        check_line(line(time=time))
        check_line(line(time=time).decode())
    for specversion in ["1", "2.0", 1.0, 1, "1.0 ", None]:
        check_line(line(specversion=specversion))
    for event_type in ["UserTeleported", "", "groupmemberadded", 1, None, [], {}, ["GroupMemberAdded"]]:
        check_line(line(type=event_type))
    for contenttype in ["application/json", None, "text/plain", 1]:
        check_line(line(datacontenttype=contenttype))
    no_type = json.loads(line())
    del no_type["type"]
    check_line(json.dumps(no_type))


def test_business_rule_variants_are_judged_as_before() -> None:
    for data in [
        {"userId": "u1", "groupId": "g1"},
        {},
        {"userId": ""},
        {"userId": None, "groupId": "g1"},
        {"userId": "u1", "groupId": None},
        {"userId": None, "groupId": None},
    ]:
        check_line(json.dumps(event("LicenseReprocessRequested", data)))
    for units in [
        {"enabled": -1},
        {"enabled": 3.0},
        {"enabled": "3"},
        {"lockedOut": -5},
        {},
        {"enabled": True},
        {"enabled": 10**9},
        {"enabled": 10**9 + 1},
        {"warning": 2**63},
        {"suspended": 2**64},
        {"lockedOut": 10**40},
    ]:
        check_line(json.dumps(event("SubscriptionChanged", {"skuId": "E3", "prepaidUnits": units})))
    for version in [0, -1, 2**53, 2**63 - 1, 2**63, -(2**63), 10**40]:
        for event_type, data in [
            ("SubscriptionChanged", {"skuId": "E3"}),
            ("UserUpdated", {"userId": "u1"}),
            ("GroupMemberAdded", {"groupId": "g", "memberId": "u"}),
            ("GroupMemberRemoved", {"groupId": "g", "memberId": "u"}),
            ("GroupLicensesChanged", {"groupId": "g"}),
        ]:
            check_line(json.dumps(event(event_type, {**data, "version": version})))
    for location in ["US", "us", "u", "usa", "U1", "", None, "ÜS"]:
        check_line(json.dumps(event("UserCreated", {"userId": "u1", "usageLocation": location})))
        check_line(json.dumps(event("UserUpdated", {"userId": "u1", "usageLocation": location})))
        check_line(json.dumps(event("TenantConfigured", {"countryLetterCode": location})))
    for kinds in [["security"], ["security", "x"], [], None, "security", [None]]:
        check_line(json.dumps(event("TenantConfigured", {"settings": {"allowedGroupKinds": kinds}})))
    for member_type in ["user", "group", "device", None, ""]:
        check_line(json.dumps(event("GroupMemberAdded", {"groupId": "g", "memberId": "u", "memberType": member_type})))


# ---- random mutations -------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.sampled_from(WRONG[9:20]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
FIELD_NAMES = sorted({key for data in FULL_DATA.values() for key in data} | set(ENVELOPE) | {"type", "data", "x"})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event_type=st.sampled_from(INPUT_TYPES),
    in_data=st.booleans(),
    key=st.sampled_from(FIELD_NAMES),
    value=json_values,
)
def test_random_mutations_are_judged_as_before(event_type: str, in_data: bool, key: str, value: Any) -> None:
    body = event(event_type)
    (body["data"] if in_data else body)[key] = value
    check_line(json.dumps(body))


# ---- the record API the decision core relies on -----------------------------------------------------------------


def test_records_keep_the_model_api() -> None:
    configured = parse_event(json.dumps(event("TenantConfigured", {"countryLetterCode": None, "mode": "faithful"})))
    assert isinstance(configured, ev.TenantConfigured) and isinstance(configured.data, ev.TenantConfiguredData)
    assert configured.data.countryLetterCode is None  # given as null: clears the country
    assert configured.data.ruleset is None and configured.data.settings is None
    assert configured.type == "TenantConfigured"
    assert parse_event(json.dumps(event("TenantConfigured", {"mode": "faithful"}))).data.countryLetterCode is UNSET

    updated = parse_event(json.dumps(event("UserUpdated", {"userId": "u1", "usageLocation": None})))
    assert isinstance(updated.data, ev.UserUpdatedData)
    assert updated.data.usageLocation is None
    assert updated.data.proxyAddresses is None and updated.data.version is None
    assert parse_event(json.dumps(event("UserUpdated", {"userId": "u1"}))).data.usageLocation is UNSET

    created = parse_event(json.dumps(event("UserCreated", {"userId": "u1"})))
    assert isinstance(created.data, ev.UserCreatedData)
    assert created.data.proxyAddresses == [] and created.data.accountEnabled is True
    created.data.proxyAddresses.append("x")  # a default is the record's own copy, as with pydantic
    assert parse_event(json.dumps(event("UserCreated", {"userId": "u1"}))).data.proxyAddresses == []
    with pytest.raises(AttributeError):
        created.data.userId = "u2"  # type: ignore[misc]  # immutable, as a frozen pydantic model

    subscription = parse_event(json.dumps(event("SubscriptionChanged", {"skuId": "E3"})))
    assert isinstance(subscription.data.prepaidUnits, ev.PrepaidUnits)
    assert (subscription.data.prepaidUnits.enabled, subscription.data.prepaidUnits.lockedOut) == (0, 0)

    licences = parse_event(json.dumps(event("GroupLicensesChanged")))
    assert all(isinstance(item, ev.LicenseToAdd) for item in licences.data.addLicenses)
    assert licences.data.addLicenses[1].disabledPlans == []

    member = parse_event(line())
    again = parse_event(line())
    assert member == again and hash(member) == hash(again) and member is not again
    assert member != parse_event(line(id="e-2"))
    assert pickle.loads(pickle.dumps(member)) == member
    assert copy.deepcopy(member) == member
