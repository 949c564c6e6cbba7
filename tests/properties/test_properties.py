"""Property tests over generated streams of CONTRACT §2 input events (1–3 tenants, interleaved).

Properties: replay equals live state, re-ingest is a no-op, seats are never granted beyond capacity, assignedLicenses
follows the union rule of SPEC §2.7, tenants are isolated, and the decision core is deterministic.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide, new_tenant
from processor.embedded import eventlog
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime, decision_rows
from projections.export import tenant_document
from tests.dsl import decide_stream

CATALOG = json.loads((Path(__file__).resolve().parents[2] / "processor" / "catalog.json").read_text())
SKU_BY_PART = {sku["skuPartNumber"]: sku for sku in CATALOG["skus"]}
PART_BY_ID = {sku["skuId"]: sku["skuPartNumber"] for sku in CATALOG["skus"]}
PLAN_IDS = {sku["skuId"]: frozenset(p["servicePlanId"] for p in sku["servicePlans"]) for sku in CATALOG["skus"]}
PLAN_NAME_TO_ID = {p["servicePlanName"]: p["servicePlanId"] for sku in CATALOG["skus"] for p in sku["servicePlans"]}

SKUS = ["ENTERPRISEPACK", "STANDARDPACK", "EMS", "MCOMEETADV", "MCOPSTN1", "POWER_BI_PRO"]
TENANTS = ["t-alpha", "t-beta", "t-gamma"]
USERS = ["u1", "u2", "u3", "u4", "u5", "u6"]  # u6 is never in the setup: often named first by other events
GROUPS = ["g1", "g2", "g3"]
PROXIES = [
    "SMTP:ann@contoso.com",
    "smtp:ann@contoso.com",  # same address, other case: a duplicate
    "SMTP:bob@contoso.com",
    "smtp:shared@contoso.com",
    "SMTP:carl@contoso.com",
]
LOCATIONS = ["US", "IN", "GB"]
START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
APPLIED = ("Active", "ActiveWithError")

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# ---- strategies ----------------------------------------------------------------------------------------------

Payload = tuple[str, dict[str, Any]]  # (type, data)


def sku_ref(part: str) -> st.SearchStrategy[str]:
    """A SKU as the wire accepts it: part number or GUID."""
    return st.sampled_from([part, part, SKU_BY_PART[part]["skuId"]])


@st.composite
def license_to_add(draw: st.DrawFn, skus: list[str]) -> dict[str, Any]:
    addons = [s for s in skus if s == "MCOMEETADV"]  # needs MCOSTANDARD beside it: rarer
    part = draw(st.sampled_from([s for s in skus if s not in addons] * 3 + addons))
    plans = [p["servicePlanName"] for p in SKU_BY_PART[part]["servicePlans"]]
    disabled: list[str] = []
    if len(plans) > 1 and draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(plans), min_size=1, max_size=3, unique=True))
        disabled = [PLAN_NAME_TO_ID[n] if draw(st.booleans()) else n for n in names]
    return {"skuId": draw(sku_ref(part)), "disabledPlans": disabled}


@st.composite
def license_change(draw: st.DrawFn, skus: list[str], key: str, target: str) -> dict[str, Any]:
    add = draw(st.lists(license_to_add(skus), min_size=0, max_size=2))
    seen = {SKU_BY_PART.get(a["skuId"], {}).get("skuId", a["skuId"]) for a in add}
    removable = [s for s in skus if SKU_BY_PART[s]["skuId"] not in seen]
    remove = draw(st.lists(st.sampled_from(removable), max_size=1, unique=True)) if removable else []
    if not add and not remove:
        add = [draw(license_to_add(skus))]
    return {key: target, "addLicenses": add, "removeLicenses": [draw(sku_ref(s)) for s in remove]}


def proxies() -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(PROXIES), max_size=2)


@st.composite
def user_created(draw: st.DrawFn, user_id: str) -> Payload:
    data: dict[str, Any] = {"userId": user_id, "displayName": user_id.upper()}
    location = draw(st.sampled_from([None, "US", "US", "US", "IN", "GB"]))
    if location is not None:
        data["usageLocation"] = location
    data["proxyAddresses"] = draw(proxies())
    return "UserCreated", data


@st.composite
def body_events(draw: st.DrawFn, skus: list[str], users: list[str], groups: list[str]) -> list[Payload]:
    kind = draw(
        st.sampled_from(
            ["member+"] * 9
            + ["member-"] * 2
            + ["groupLicenses"] * 4
            + ["userLicenses"] * 3
            + ["reprocess"] * 3
            + ["userUpdated"] * 2
            + ["subscription"] * 2
            + ["relocate"] * 2
            + ["userDeleted", "userRestored", "userCreated", "groupCreated", "tenantConfigured"]
        )
    )
    user = draw(st.sampled_from(users * 4 + USERS))  # mostly the users created in the setup
    group = draw(st.sampled_from(groups * 4 + GROUPS))
    if kind == "relocate":  # the admin moves a user, then presses Reprocess (SPEC §2.9)
        location = draw(st.sampled_from(LOCATIONS))
        return [
            ("UserUpdated", {"userId": user, "usageLocation": location}),
            ("LicenseReprocessRequested", {"userId": user}),
        ]
    return [draw(body_event(kind, user, group, skus))]


@st.composite
def body_event(draw: st.DrawFn, kind: str, user: str, group: str, skus: list[str]) -> Payload:
    version = draw(st.one_of(st.none(), st.none(), st.none(), st.integers(1, 3)))
    if kind == "member+":
        data: dict[str, Any] = {"groupId": group, "memberId": user}
        if draw(st.integers(0, 9)) == 0:
            data = {"groupId": group, "memberId": draw(st.sampled_from(GROUPS)), "memberType": "group"}
        if version is not None:
            data["version"] = version
        return "GroupMemberAdded", data
    if kind == "member-":
        data = {"groupId": group, "memberId": user}
        if version is not None:
            data["version"] = version
        return "GroupMemberRemoved", data
    if kind == "groupLicenses":
        return "GroupLicensesChanged", draw(license_change(skus, "groupId", group))
    if kind == "userLicenses":
        return "UserLicensesChanged", draw(license_change(skus, "userId", user))
    if kind == "reprocess":
        return "LicenseReprocessRequested", draw(st.sampled_from([{"userId": user}, {"groupId": group}]))
    if kind == "userUpdated":
        data = {"userId": user}
        if draw(st.booleans()):
            data["usageLocation"] = draw(st.sampled_from([None, *LOCATIONS]))
        if draw(st.booleans()):
            data["proxyAddresses"] = draw(proxies())
        if draw(st.integers(0, 4)) == 0:
            data["accountEnabled"] = draw(st.booleans())
        if version is not None:
            data["version"] = version
        return "UserUpdated", data
    if kind == "subscription":
        return "SubscriptionChanged", draw(subscription(skus))
    if kind == "userDeleted":
        return "UserDeleted", {"userId": user, "permanent": draw(st.integers(0, 3)) == 0}
    if kind == "userRestored":
        return "UserRestored", {"userId": user}
    if kind == "userCreated":
        return draw(user_created(user))
    if kind == "groupCreated":
        return "GroupCreated", {"groupId": group, "displayName": group.upper()}
    return "TenantConfigured", draw(tenant_configured())


@st.composite
def subscription(draw: st.DrawFn, skus: list[str]) -> dict[str, Any]:
    part = draw(st.sampled_from(skus))
    units = {"enabled": draw(st.integers(0, 4))}
    if draw(st.integers(0, 4)) == 0:
        units["warning"] = draw(st.integers(0, 2))
    if draw(st.integers(0, 6)) == 0:
        units["suspended"] = draw(st.integers(0, 2))
    return {"skuId": draw(sku_ref(part)), "prepaidUnits": units}


@st.composite
def tenant_configured(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"mode": draw(st.sampled_from(["faithful", "improved"]))}
    country = draw(st.sampled_from(["US", "US", "IN", None]))
    if country is not None:
        data["countryLetterCode"] = country
    return data


@st.composite
def tenant_payloads(draw: st.DrawFn, budget: int) -> list[Payload]:
    """One tenant's events: a realistic setup prefix, then a random body."""
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=3, max_size=4, unique=True))
    events: list[Payload] = []
    if draw(st.integers(0, 4)) > 0:
        events.append(("TenantConfigured", draw(tenant_configured())))
    for part in skus:
        if draw(st.integers(0, 4)) > 0:
            sub = draw(subscription([part]))
            events.append(("SubscriptionChanged", sub))
    users = USERS[: draw(st.integers(2, 5))]
    groups = GROUPS[: draw(st.integers(1, 3))]
    for user in users:
        events.append(draw(user_created(user)))
    for group in groups:
        events.append(("GroupCreated", {"groupId": group, "displayName": group.upper()}))
    events = events[:budget]
    target = len(events) + draw(st.integers(0, max(0, budget - len(events))))
    while len(events) < target:
        events.extend(draw(body_events(skus, users, groups)))
    return events[:budget]


@st.composite
def streams(draw: st.DrawFn, max_tenants: int = 3, min_tenants: int = 1) -> list[dict[str, Any]]:
    """An interleaved stream of CloudEvents for 1–3 tenants; ids unique per tenant (reused across tenants),
    times non-decreasing."""
    count = draw(st.integers(min_tenants, max_tenants))
    tenants = TENANTS[:count]
    budget = 60 // count
    per_tenant = {t: draw(tenant_payloads(budget)) for t in tenants}
    order = draw(st.permutations([t for t in tenants for _ in per_tenant[t]]))
    cursor = {t: 0 for t in tenants}
    moment = START
    stream = []
    for tenant in order:
        event_type, data = per_tenant[tenant][cursor[tenant]]
        cursor[tenant] += 1
        moment += timedelta(seconds=draw(st.sampled_from([0, 1, 1, 1, 90])))
        stream.append(
            {
                "specversion": "1.0",
                "id": f"e{cursor[tenant]}",
                "source": "/hr-sync",
                "type": event_type,
                "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tenant": tenant,
                "datacontenttype": "application/json",
                "data": data,
            }
        )
    return stream


def handwritten_stream() -> list[dict[str, Any]]:
    """A fixed example for every property: several sources of one SKU with different disabled plans, an entry
    that becomes ActiveWithError, seats running out, and a second tenant reusing the same event ids."""
    alpha: list[Payload] = [
        ("TenantConfigured", {"countryLetterCode": "US"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 1, "warning": 1}}),
        ("SubscriptionChanged", {"skuId": "MCOPSTN1", "prepaidUnits": {"enabled": 1}}),
        ("UserCreated", {"userId": "u1", "usageLocation": "US"}),
        ("UserCreated", {"userId": "u2", "usageLocation": "US"}),
        ("UserCreated", {"userId": "u3"}),
        ("GroupCreated", {"groupId": "g1"}),
        ("GroupCreated", {"groupId": "g2"}),
        (
            "GroupLicensesChanged",
            {
                "groupId": "g1",
                "addLicenses": [{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY", "YAMMER_ENTERPRISE"]}],
            },
        ),
        (
            "GroupLicensesChanged",
            {
                "groupId": "g2",
                "addLicenses": [
                    {"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY", PLAN_NAME_TO_ID["TEAMS1"]]},
                    {"skuId": "MCOPSTN1", "disabledPlans": []},
                ],
            },
        ),
        ("GroupMemberAdded", {"groupId": "g1", "memberId": "u1"}),
        ("GroupMemberAdded", {"groupId": "g2", "memberId": "u1"}),
        (
            "UserLicensesChanged",
            {
                "userId": "u1",
                "addLicenses": [{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY", "FORMS_PLAN_E3"]}],
                "removeLicenses": [],
            },
        ),
        ("GroupMemberAdded", {"groupId": "g1", "memberId": "u2"}),
        ("GroupMemberAdded", {"groupId": "g2", "memberId": "u3"}),  # no seat left: CountViolation
        ("UserUpdated", {"userId": "u1", "usageLocation": "IN"}),
        ("LicenseReprocessRequested", {"userId": "u1"}),  # MCOPSTN1 not allowed in IN: ActiveWithError
        ("GroupMemberRemoved", {"groupId": "g1", "memberId": "u1"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 3}}),
        ("LicenseReprocessRequested", {"groupId": "g2"}),
    ]
    beta: list[Payload] = [
        ("TenantConfigured", {"countryLetterCode": "IN", "mode": "improved"}),
        ("SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 1}}),
        ("GroupLicensesChanged", {"groupId": "g1", "addLicenses": [{"skuId": "ENTERPRISEPACK"}]}),
        ("GroupMemberAdded", {"groupId": "g1", "memberId": "u1"}),
        ("GroupMemberAdded", {"groupId": "g1", "memberId": "u2"}),
    ]
    stream = []
    moment = START
    for n in range(max(len(alpha), len(beta))):
        for tenant, payloads in (("t-alpha", alpha), ("t-beta", beta)):
            if n < len(payloads):
                moment += timedelta(seconds=1)
                event_type, data = payloads[n]
                stream.append(
                    {
                        "specversion": "1.0",
                        "id": f"e{n + 1}",
                        "source": "/admin",
                        "type": event_type,
                        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "tenant": tenant,
                        "data": data,
                    }
                )
    # The same command ids in both tenants, so both produce the same output ids: a refused direct assignment
    # (users without usage location) and an accepted group licence change (audited).
    for tenant, user in (("t-alpha", "u3"), ("t-beta", "u2")):
        for event_id, event_type, data in (
            ("cmd-1", "UserLicensesChanged", {"userId": user, "addLicenses": [{"skuId": "POWER_BI_PRO"}]}),
            ("cmd-2", "GroupLicensesChanged", {"groupId": "g9", "addLicenses": [{"skuId": "POWER_BI_PRO"}]}),
        ):
            moment += timedelta(seconds=1)
            stream.append(
                {
                    "specversion": "1.0",
                    "id": event_id,
                    "source": "/admin",
                    "type": event_type,
                    "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "tenant": tenant,
                    "data": data,
                }
            )
    return stream


HANDWRITTEN = handwritten_stream()


# ---- helpers -------------------------------------------------------------------------------------------------


def lines_of(stream: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    return [(f"gen:{n}", json.dumps(event).encode()) for n, event in enumerate(stream, 1)]


def tenants_of(stream: list[dict[str, Any]]) -> list[str]:
    return sorted({event["tenant"] for event in stream})


def ingest(path: Path, stream: list[dict[str, Any]]) -> tuple[sqlite3.Connection, EmbeddedRuntime, Any]:
    conn = open_database(path)
    runtime = EmbeddedRuntime(conn)
    summary = runtime.ingest(lines_of(stream))
    return conn, runtime, summary


def documents(conn: sqlite3.Connection, tenants: list[str]) -> dict[str, str]:
    return {t: json.dumps(tenant_document(conn, t), sort_keys=True) for t in tenants}


def decisions(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return list(decision_rows(conn))


def tenant_decisions(conn: sqlite3.Connection, tenant: str) -> list[bytes]:
    return [body for _, _, body in decision_rows(conn, tenant)]


def tenant_row_counts(conn: sqlite3.Connection, tenant: str) -> dict[str, int]:
    """Rows per table that carries a tenant column: read models of one tenant must not overwrite another's."""
    counts = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if "tenant" in columns:
            counts[table] = conn.execute(f"SELECT count(*) FROM {table} WHERE tenant = ?", (tenant,)).fetchone()[0]
    return counts


def holders(state: Any) -> dict[str, set[str]]:
    """SKU id -> users holding it (at least one Active/ActiveWithError entry), computed from the entries."""
    result: dict[str, set[str]] = {}
    for user in state.users.values():
        for entry in user.entries.values():
            if entry.state in APPLIED:
                result.setdefault(entry.sku_id, set()).add(user.user_id)
    return result


def capacity(state: Any, sku_id: str) -> int:
    sub = state.subscriptions.get(sku_id)
    return sub.enabled + sub.warning if sub else 0


# ---- properties ----------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(stream=streams())
@example(stream=HANDWRITTEN)
def test_replay_reproduces_live_state(stream: list[dict[str, Any]]) -> None:
    tenants = tenants_of(stream)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.db"
        conn, _, summary = ingest(path, stream)
        assert summary.dead_lettered == 0, summary.reasons
        assert summary.accepted + summary.stale == len(stream)
        live_docs, live_decisions = documents(conn, tenants), decisions(conn)
        assert live_decisions, "every stream decides something"
        conn.close()

        fresh = open_database(path, create=False)  # as `licensing replay` does: a new process on the file
        replayed = EmbeddedRuntime(fresh).replay()
        assert replayed == len(stream)
        assert documents(fresh, tenants) == live_docs
        assert decisions(fresh) == live_decisions
        fresh.close()


@PROPERTY_SETTINGS
@given(stream=streams())
@example(stream=HANDWRITTEN)
def test_ingesting_twice_changes_nothing(stream: list[dict[str, Any]]) -> None:
    tenants = tenants_of(stream)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.db"
        conn, _, _ = ingest(path, stream)
        first_docs, first_decisions = documents(conn, tenants), decisions(conn)
        first_events = list(eventlog.entries(conn))
        conn.close()

        again, _, summary = ingest(path, stream)  # a second run of the command: snapshot + log
        assert (summary.accepted, summary.stale, summary.dead_lettered) == (0, 0, 0)
        assert summary.duplicates == len(stream)
        assert documents(again, tenants) == first_docs
        assert decisions(again) == first_decisions
        assert list(eventlog.entries(again)) == first_events
        again.close()


@PROPERTY_SETTINGS
@given(stream=streams())
@example(stream=HANDWRITTEN)
def test_seats_are_never_granted_beyond_capacity(stream: list[dict[str, Any]]) -> None:
    states: dict[str, Any] = {}
    for event in stream:
        state = states.setdefault(event["tenant"], new_tenant(event["tenant"], shipped_catalog()))
        consumed_before = dict(state.consumed)
        holders_before = holders(state)
        decide(state, parse_event(json.dumps(event)))
        holders_after = holders(state)
        for sku_id in set(state.consumed) | set(holders_after):
            consumed = state.consumed.get(sku_id, 0)
            # SPEC §2.6: consumed = number of users with an applied entry (one seat however many sources).
            assert consumed == len(holders_after.get(sku_id, ())), (event, PART_BY_ID[sku_id])
            granted = holders_after.get(sku_id, set()) - holders_before.get(sku_id, set())
            if consumed > consumed_before.get(sku_id, 0) or granted:
                assert consumed <= capacity(state, sku_id), (
                    f"{PART_BY_ID[sku_id]}: {consumed} consumed > capacity {capacity(state, sku_id)} "
                    f"after {event['tenant']}/{event['id']} {event['type']} granted {sorted(granted)}"
                )


@PROPERTY_SETTINGS
@given(stream=streams())
@example(stream=HANDWRITTEN)
def test_assigned_licenses_follow_the_union_rule(stream: list[dict[str, Any]]) -> None:
    tenants = tenants_of(stream)
    with tempfile.TemporaryDirectory() as tmp:
        conn, runtime, _ = ingest(Path(tmp) / "log.db", stream)
        for tenant in tenants:
            document = tenant_document(conn, tenant)
            state = runtime.tenants[tenant]
            assert [u["id"] for u in document["users"]] == sorted(state.users)
            for user in document["users"]:
                entries = user["licenseAssignmentStates"]
                # The document's entries are the engine's entries.
                live = state.users[user["id"]].entries
                assert sorted((e["skuId"], e["assignedByGroup"] or "", e["state"]) for e in entries) == sorted(
                    (sku_id, group or "", e.state) for (sku_id, group), e in live.items()
                )
                enabled: dict[str, set[str]] = {}
                for entry in entries:
                    if entry["state"] in APPLIED:
                        plans = PLAN_IDS[entry["skuId"]]
                        enabled.setdefault(entry["skuId"], set()).update(plans - set(entry["disabledPlans"]))
                expected = sorted(
                    (
                        {
                            "skuId": sku_id,
                            "skuPartNumber": PART_BY_ID[sku_id],
                            "disabledPlans": sorted(PLAN_IDS[sku_id] - on),
                        }
                        for sku_id, on in enabled.items()
                    ),
                    key=lambda lic: lic["skuPartNumber"],
                )
                assert user["assignedLicenses"] == expected, (tenant, user["id"], entries)
        conn.close()


@PROPERTY_SETTINGS
@given(stream=streams(min_tenants=2))
@example(stream=HANDWRITTEN)
def test_tenants_never_affect_each_other(stream: list[dict[str, Any]]) -> None:
    tenants = tenants_of(stream)
    with tempfile.TemporaryDirectory() as tmp:
        mixed, _, _ = ingest(Path(tmp) / "mixed.db", stream)
        mixed_docs = documents(mixed, tenants)
        for n, tenant in enumerate(tenants):
            own = [event for event in stream if event["tenant"] == tenant]
            alone, _, summary = ingest(Path(tmp) / f"alone{n}.db", own)
            assert summary.duplicates == 0  # ids reused by other tenants are not duplicates here either
            assert documents(alone, [tenant])[tenant] == mixed_docs[tenant]
            assert tenant_decisions(alone, tenant) == tenant_decisions(mixed, tenant)
            assert tenant_row_counts(alone, tenant) == tenant_row_counts(mixed, tenant)
            alone.close()
        mixed.close()


@PROPERTY_SETTINGS
@given(stream=streams())
@example(stream=HANDWRITTEN)
def test_outputs_are_deterministic(stream: list[dict[str, Any]]) -> None:
    first, _ = decide_stream(stream)
    second, _ = decide_stream(stream)
    assert json.dumps(first) == json.dumps(second)
    ids = Counter((o["tenant"], o["id"]) for outputs in first for o in outputs)
    assert not [key for key, n in ids.items() if n > 1], "output ids are unique per tenant"
    for event, outputs in zip(stream, first):
        for output in outputs:
            assert output["time"] == event["time"]  # stamped with event time, never the wall clock
            assert output["tenant"] == event["tenant"]
            assert output["data"]["causedBy"] == event["id"]


@PROPERTY_SETTINGS
@given(stream=streams())
@example(stream=HANDWRITTEN)
def test_address_sharers_count_the_addresses_other_users_hold_too(stream: list[dict[str, Any]]) -> None:
    """`address_sharers` lets the uniqueness check skip users sharing nothing: it must be exact after every event."""
    states: dict[str, Any] = {}
    for event in stream:
        state = states.setdefault(event["tenant"], new_tenant(event["tenant"], shipped_catalog()))
        decide(state, parse_event(json.dumps(event)))
        expected: Counter[str] = Counter()
        for users in state.proxy_holders.values():
            if len(users) > 1:
                expected.update(users)
        assert state.address_sharers == dict(expected), (event["tenant"], event["id"], event["type"])
