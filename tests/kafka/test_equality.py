"""Kafka runtime == embedded runtime: the same file published to `licensing.events` and decided by a worker,
projected by `licensing project`, gives the same `licensing export` as `licensing ingest` + export, and the
decisions topic (deduplicated by id) holds exactly the embedded `decisions` rows, per tenant and in order."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from processor.demo.generator import generate_demo_events, write_jsonl
from tests.dsl import Scenario
from tests.kafka.conftest import (
    Cluster,
    Embedded,
    assert_same_as_embedded,
    interleave,
    partition_of,
    table_counts,
    tenants_on_partitions,
)

# ---- SPEC scenario streams (tests/dsl.py records each input event in Scenario.events) ---------------------------


def count_violations_and_reprocess(tenant: str = "contoso") -> Scenario:
    """S06/S14: more members than E3 seats, seats bought, group and user reprocessed; a direct E3 without a seat."""
    s = Scenario(tenant_id=tenant)
    s.group("G_E3", "E3")
    s.add("G_E3", "u1", "u2", "u3", "u4", "u5")  # 3 seats: u4, u5 CountViolation
    s.capacity("E3", 4)
    s.reprocess_group("G_E3")  # u4 healed, u5 still waiting
    s.remove("G_E3", "u1")  # frees a seat, faithful: nobody heals by itself
    s.reprocess_user("u5")
    s.direct("u6", add=["E3"])  # no seat left: refused
    s.capacity("E3", 2)  # below consumption
    s.reprocess_group("G_E3")
    return s


def mutual_exclusion(tenant: str = "contoso") -> Scenario:
    """S16/S17/S18/S21: direct E1 blocks group E3, a clashing direct assignment refused, clash disabled, healed."""
    s = Scenario(tenant_id=tenant)
    s.direct("u1", add=["E1"])
    s.group("G_E3", "E3")
    s.add("G_E3", "u1", "u2")  # u1: MutuallyExclusiveViolation
    s.direct("u2", add=["E1"])  # clashes with the inherited E3: refused
    s.assign("G_E3", add=[("E3", ["SHAREPOINTENTERPRISE", "EXCHANGE_S_ENTERPRISE"])])
    s.direct("u1", remove=["E1"])
    s.reprocess_user("u1")
    s.remove("G_E3", "u2")
    return s


def dependency_blocking(tenant: str = "contoso") -> Scenario:
    """S30/S31/S32: a direct add-on keeps a leaver's group E3 ActiveWithError until removed and reprocessed."""
    s = Scenario(tenant_id=tenant)
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    s.direct("u1", add=["AC"])
    s.remove("G_E3", "u1")  # DependencyViolation, ActiveWithError
    s.direct("u2", add=["AC"])  # add-on without its prerequisite: refused
    s.direct("u1", remove=["AC"])
    s.reprocess_user("u1")
    return s


def location_and_uniqueness(tenant: str = "contoso") -> Scenario:
    """S37/S38/S41: a calling plan for a member in a prohibited country, a duplicate proxy address."""
    s = Scenario(tenant_id=tenant)
    s.group("G_CALL", "CALL")
    s.add("G_CALL", "u1", "u5")  # u5 is in IN
    s.update_user("u5", usageLocation="US")
    s.reprocess_user("u5")
    s.update_user("u2", proxyAddresses=["SMTP:bob@contoso.com", "smtp:sales@contoso.com"])
    s.direct("u2", add=["E3"])
    s.update_user("u4", proxyAddresses=["SMTP:dave@contoso.com", "smtp:sales@contoso.com"])
    s.group("G_EMS", "EMS")
    s.add("G_EMS", "u4")
    return s


SCENARIOS: dict[str, Callable[[str], Scenario]] = {
    "count-violations-reprocess": count_violations_and_reprocess,
    "mutual-exclusion": mutual_exclusion,
    "dependency-blocking": dependency_blocking,
}


def as_json(outputs: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(json.dumps(o)) for o in outputs]


# ---- the comparison ----------------------------------------------------------------------------------------------


def run_both(kafka: Cluster, embedded: Callable[..., Embedded], path: Path, workers: int = 1) -> Embedded:
    """Publish the file, decide and project it on Kafka into kafka.db; ingest it embedded. Returns the reference."""
    reference = embedded(path)
    kafka.publish(path)
    processes = [kafka.start_worker(f"worker-{n}") for n in range(workers)]
    processes.append(kafka.start_projector(kafka.tmp / "kafka.db"))
    kafka.wait_projected(kafka.tmp / "kafka.db")
    kafka.assert_running(*processes)
    return reference


# ---- tests ---------------------------------------------------------------------------------------------------


def test_demo_tenant_equals_embedded(kafka: Cluster, embedded: Callable[..., Embedded]) -> None:
    path = kafka.tmp / "demo.jsonl"
    write_jsonl(generate_demo_events(users=500), path)
    reference = run_both(kafka, embedded, path)
    decisions = assert_same_as_embedded(kafka, reference, ["contoso"])
    assert len(decisions["contoso"]) > 1000
    assert kafka.read_topic("licensing.dead-letter") == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_spec_scenario_equals_embedded(name: str, kafka: Cluster, embedded: Callable[..., Embedded]) -> None:
    scenario = SCENARIOS[name]("contoso")
    path = kafka.tmp / f"{name}.jsonl"
    write_jsonl(scenario.events, path)
    reference = run_both(kafka, embedded, path)
    decisions = assert_same_as_embedded(kafka, reference, ["contoso"])
    assert decisions["contoso"] == as_json(scenario.outputs)  # and both equal the pure decision core's outputs


def test_multi_tenant_scenarios_equal_embedded(kafka: Cluster, embedded: Callable[..., Embedded]) -> None:
    # two tenants share partition 1, so one worker decides two interleaved tenants of one partition
    tenants = tenants_on_partitions("tenant", [0, 1, 1, 3])
    builders = [count_violations_and_reprocess, mutual_exclusion, dependency_blocking, location_and_uniqueness]
    scenarios = {tenant: build(tenant) for tenant, build in zip(tenants, builders, strict=True)}
    assert len({partition_of(t.encode()) for t in tenants}) == 3
    path = kafka.tmp / "multi-tenant.jsonl"
    write_jsonl(interleave(*(s.events for s in scenarios.values())), path)

    reference = run_both(kafka, embedded, path)
    decisions = assert_same_as_embedded(kafka, reference, tenants)

    # Scenario input ids (e1, e2, ...) repeat across tenants; each tenant still has all of its own rows
    kafka_db = kafka.tmp / "kafka.db"
    rejected = table_counts(kafka_db, "rejected_commands")
    audits = table_counts(kafka_db, "audit_log")
    for tenant, scenario in scenarios.items():
        assert decisions[tenant] == as_json(scenario.outputs), tenant
        document = json.loads(kafka.export(kafka_db, tenant))
        assert document["rejectedCommands"] == [
            {k: r[k] for k in ("eventId", "type", "error", "message")} for r in scenario.rejections()
        ], f"rejectedCommands of {tenant}"
        assert rejected.get(tenant, 0) == len(scenario.rejections()), f"rejected_commands rows of {tenant}"
        assert audits.get(tenant, 0) == len(scenario.of_type("AuditRecorded", scenario.outputs)), f"audit of {tenant}"
