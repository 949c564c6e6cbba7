"""Malformed messages among valid events (CONTRACT §4): each lands in licensing.dead-letter with the original bytes as
value and the dlq.* headers naming where it was read; the events after it are still decided."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from processor.kafka import DEAD_LETTER_TOPIC, EVENTS_TOPIC
from tests.kafka.conftest import Cluster, Embedded, assert_same_as_embedded


def event(n: int, event_type: str, tenant: str | None = "contoso", **data: Any) -> bytes:
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"e{n}",
        "source": "/hr-sync",
        "type": event_type,
        "time": f"2026-01-05T10:00:{n:02d}Z",
        "tenant": tenant,
        "data": data,
    }
    if tenant is None:
        del body["tenant"]
    return json.dumps(body, separators=(",", ":")).encode()


def test_malformed_messages_are_dead_lettered_and_the_rest_decided(
    kafka: Cluster, embedded: Callable[..., Embedded]
) -> None:
    contoso = b"contoso"
    bad_json = b'{"specversion":"1.0","id":"x1","tenant":"contoso","type":"UserCreated",'
    unknown_type = event(90, "UserTeleported", userId="u1")
    no_tenant = event(91, "UserCreated", tenant=None, userId="u9")
    # (key, value, malformed?) in publishing order; the last bad one has no key, so it may land on any partition
    messages: list[tuple[bytes | None, bytes, bool]] = [
        (contoso, event(1, "TenantConfigured", countryLetterCode="US"), False),
        (contoso, event(2, "SubscriptionChanged", skuId="ENTERPRISEPACK", prepaidUnits={"enabled": 1}), False),
        (contoso, event(3, "UserCreated", userId="u1", usageLocation="US"), False),
        (contoso, bad_json, True),
        (contoso, event(4, "UserCreated", userId="u2", usageLocation="US"), False),
        (contoso, event(5, "GroupCreated", groupId="G_E3", displayName="E3 users"), False),
        (contoso, unknown_type, True),
        (contoso, event(6, "GroupLicensesChanged", groupId="G_E3", addLicenses=[{"skuId": "ENTERPRISEPACK"}]), False),
        (contoso, no_tenant, True),
        (contoso, event(7, "GroupMemberAdded", groupId="G_E3", memberId="u1"), False),
        (None, no_tenant.replace(b'"e91"', b'"e92"'), True),
        (contoso, event(8, "GroupMemberAdded", groupId="G_E3", memberId="u2"), False),
    ]
    path = kafka.tmp / "events.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _, value, _ in messages))
    reference = embedded(path)

    placed = kafka.produce([(key, value) for key, value, _ in messages])  # one record per batch, acks=all
    db = kafka.tmp / "kafka.db"
    worker, projector = kafka.start_worker(), kafka.start_projector(db)
    kafka.wait_projected(db)
    kafka.assert_running(worker, projector)

    reasons = reference.dead_letter_reasons()
    expected = [(key, value, placed[n]) for n, (key, value, malformed) in enumerate(messages) if malformed]
    letters = kafka.read_topic(DEAD_LETTER_TOPIC)
    assert sorted(m.value for m in letters) == sorted(value for _, value, _ in expected)
    by_value = {m.value: m for m in letters}
    for key, value, (partition, offset) in expected:
        letter = by_value[value]
        assert letter.header("dlq.source-topic") == EVENTS_TOPIC.encode()
        assert letter.header("dlq.source-partition") == str(partition).encode()
        assert letter.header("dlq.source-offset") == str(offset).encode()
        reason = letter.header("dlq.reason")
        assert reason and b"\n" not in reason
        assert reason.decode() == reasons[value]  # the same one-line reason as the embedded dead-letter table
        # the key is the tenant id when the message names one, else the message's own key (null when it had none)
        assert letter.key == (contoso if b'"tenant":"contoso"' in value else key)
    assert [m.value for m in letters if m.key is None] == [messages[10][1]]

    # the valid events after each malformed one were decided: E3 went to u1, u2 waits for a seat
    assert_same_as_embedded(kafka, reference, ["contoso"])
    document = json.loads(kafka.export(db, "contoso"))
    states = {u["id"]: u["licenseAssignmentStates"] for u in document["users"]}
    assert [(s["state"], s["error"]) for s in states["u1"]] == [("Active", "None")]
    assert [(s["state"], s["error"]) for s in states["u2"]] == [("Error", "CountViolation")]
