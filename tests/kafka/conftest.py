"""Fixtures for the Kafka integration tests: real processes on 127.0.0.1, started and stopped by the fixtures.

* `kafka` — a fresh dev broker (Tansu, memory-only, ~20 ms to start) per test with the three topics created with
  4 partitions by `licensing topics`, and a `Cluster` to start / stop / `kill -9` `licensing worker` and
  `licensing project` subprocesses (each in its own session, so `os.killpg` reaches the whole process group),
  publish, wait, export, and read whole topics with a group-less consumer.
* `embedded` — the reference: `licensing ingest FILE --db E.db`, its exports, `decisions` and read-model tables.

Every process a fixture started is SIGKILLed in teardown, also when the test failed; the logs are files in the
test's tmp_path and their tails are attached to the report of a failed test. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from processor.embedded.runtime import decision_rows
from processor.kafka import DECISIONS_TOPIC, EVENTS_TOPIC, WORKER_GROUP
from processor.kafka.admin import committed_offsets
from processor.kafka.broker import BrokerUnavailable, free_port, start_broker
from processor.kafka.projector import projected_positions
from projections.models import READ_MODELS

LICENSING = Path(sys.executable).parent / "licensing"
PARTITIONS = 4
CLI_TIMEOUT = 120.0
WAIT_TIMEOUT = 120.0
READ_MODEL_TABLES = tuple(table for model in READ_MODELS for table in model.tables)
LOG_TAIL = 150  # lines of each process log attached to a failed test's report


# ---- messages ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def json(self) -> Any:
        return json.loads(self.value)

    def header(self, name: str) -> bytes | None:
        values = [v for k, v in self.headers if k == name]
        assert len(values) <= 1, f"header {name} appears {len(values)} times at {self.partition}/{self.offset}"
        return values[0] if values else None


def partition_of(key: bytes, partitions: int = PARTITIONS) -> int:
    """The partition aiokafka's default partitioner (used by `licensing publish`) sends `key` to."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(key, every, every))


def tenants_on_partitions(prefix: str, wanted: list[int]) -> list[str]:
    """Tenant ids `<prefix>-<n>` whose events land on the wanted partitions, in that order (a partition may repeat)."""
    chosen: list[str] = []
    taken: set[str] = set()
    for partition in wanted:
        n = 0
        while True:
            candidate = f"{prefix}-{n}"
            if candidate not in taken and partition_of(candidate.encode()) == partition:
                chosen.append(candidate)
                taken.add(candidate)
                break
            n += 1
    return chosen


def interleave(*streams: list[Any]) -> list[Any]:
    """Round-robin merge; each stream keeps its own order."""
    merged: list[Any] = []
    for i in range(max(len(s) for s in streams)):
        merged.extend(s[i] for s in streams if i < len(s))
    return merged


def dedupe_decisions(messages: list[Message]) -> dict[str, list[Any]]:
    """The decisions topic per tenant in log order, a re-published decision (same id) kept at its first occurrence.

    Also checks what a consumer that recognises redeliveries by id relies on: a re-published decision is identical
    to the first one, and carries the tenant as key.
    """
    first: dict[tuple[str, str], bytes] = {}
    per_tenant: dict[str, list[Any]] = {}
    for message in messages:
        value = message.json()
        tenant = value["tenant"]
        assert message.key == tenant.encode(), f"decision {value['id']} keyed {message.key!r}, tenant {tenant}"
        known = first.get((tenant, value["id"]))
        if known is not None:
            assert json.loads(known) == value, f"decision {value['id']} re-published with different content"
            continue
        first[(tenant, value["id"])] = message.value
        per_tenant.setdefault(tenant, []).append(value)
    return per_tenant


# ---- processes -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Cluster:
    """One broker with the licensing topics, and the worker / projector processes of one test."""

    tmp: Path
    bootstrap: str
    broker: subprocess.Popen[bytes]
    processes: list[Process] = field(default_factory=list)

    # -- worker and projector subprocesses --

    def _spawn(self, name: str, *args: str) -> Process:
        log = self.tmp / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if k not in ("LICENSING_DB", "LICENSING_BOOTSTRAP")}
        env["PYTHONUNBUFFERED"] = "1"
        with open(log, "ab") as out:
            out.write(f"---- {time.strftime('%H:%M:%S')} licensing {' '.join(args)}\n".encode())
            out.flush()
            popen = subprocess.Popen(
                [str(LICENSING), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
                env=env,
                start_new_session=True,  # own process group: killpg reaches everything it spawned
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_worker(self, name: str = "worker", datadir: str | None = None) -> Process:
        """`licensing worker`; a restart of the same worker passes the same datadir (default: one per name)."""
        directory = self.tmp / (datadir or f"datadir-{name}")
        return self._spawn(name, "worker", "--bootstrap-server", self.bootstrap, "--datadir", str(directory))

    def start_projector(self, db: Path, name: str = "projector") -> Process:
        return self._spawn(name, "project", "--bootstrap-server", self.bootstrap, "--db", str(db))

    def kill(self, process: Process) -> None:
        """kill -9 of the whole process group."""
        try:
            os.killpg(process.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            process.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not take 10 s
            raise AssertionError(f"{process.name} survived SIGKILL") from None

    def stop(self, process: Process, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL after `timeout`."""
        try:
            os.killpg(process.popen.pid, signal.SIGTERM)
            process.popen.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill(process)

    def assert_running(self, *processes: Process) -> None:
        for process in processes:
            assert process.alive, f"{process.name} exited with {process.popen.returncode}:\n{self.tail(process)}"

    def tail(self, process: Process, lines: int = LOG_TAIL) -> str:
        try:
            text = process.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        for process in self.processes:
            if process.alive:
                try:
                    self.kill(process)
                except AssertionError:  # pragma: no cover - keep tearing the rest down
                    pass
        if self.broker.poll() is None:
            self.broker.kill()
        self.broker.wait(timeout=10)

    # -- command line --

    def cli(self, *args: str, timeout: float = CLI_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return run_cli(*args, cwd=self.tmp, timeout=timeout, check=check)

    def publish(self, path: Path) -> None:
        self.cli("publish", str(path), "--bootstrap-server", self.bootstrap)

    def wait_projected(self, db: Path, timeout: float = WAIT_TIMEOUT) -> None:
        """`licensing wait`: exit 0 once everything published is decided and projected into db."""
        started = time.monotonic()
        result = run_cli(
            "wait",
            "--bootstrap-server",
            self.bootstrap,
            "--db",
            str(db),
            "--timeout",
            str(timeout),
            cwd=self.tmp,
            timeout=timeout + 30,
            check=False,
        )
        assert result.returncode == 0, (
            f"licensing wait failed after {time.monotonic() - started:.0f} s: {result.stderr.decode()}\n"
            + "".join(
                f"---- {p.name} ({'alive' if p.alive else p.popen.returncode})\n{self.tail(p, 30)}\n"
                for p in self.processes
            )
        )
        self.wait_complete(db)

    def wait_complete(self, db: Path, timeout: float = 60.0) -> None:
        """Bounded wait until the worker group has committed every event really in the events topic and `db` holds
        every decision really in the decisions topic, both read to their last record (not trusting end offsets),
        and the decisions topic did not grow in between."""
        deadline = time.monotonic() + timeout
        previous: dict[int, int] | None = None
        while True:
            events = last_offsets(self.read_topic(EVENTS_TOPIC, idle=0.2))
            committed = asyncio.run(committed_offsets(self.bootstrap, WORKER_GROUP, EVENTS_TOPIC))
            decisions = last_offsets(self.read_topic(DECISIONS_TOPIC, idle=0.2))
            projected = self.projected(db)
            decided = all(committed.get(p, 0) > last for p, last in events.items())
            caught_up = all(projected.get(p, -1) >= last for p, last in decisions.items())
            if decided and caught_up and decisions == previous:
                return
            previous = decisions
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not complete after {timeout:g} s: events {events}, committed {committed}, "
                    f"decisions {decisions}, projected {projected}"
                )
            time.sleep(0.2)

    def wait_for_table(self, db: Path, table: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if db.exists():
                conn = sqlite3.connect(db)
                try:
                    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                        return
                finally:
                    conn.close()
            assert time.monotonic() < deadline, f"{db} has no table {table} after {timeout:g} s"
            time.sleep(0.05)

    def export(self, db: Path, tenant: str) -> str:
        return self.cli("export", "--tenant", tenant, "--db", str(db)).stdout.decode()

    # -- Kafka, directly --

    def read_topic(self, topic: str, idle: float = 0.5) -> list[Message]:
        """Every message of the topic (all partitions, from the beginning), group-less.

        Read up to the end offsets and then on until no message came for `idle` seconds: Tansu 0.6.0 reports as
        end offset the base offset of a partition's last record batch + 1, so the end offsets miss the rest of the
        last batch (see test_z_end_offsets.py).
        """
        return asyncio.run(asyncio.wait_for(self._read_topic(topic, idle), timeout=60))

    async def _read_topic(self, topic: str, idle: float) -> list[Message]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            await consumer.seek_to_beginning(*tps)
            messages: list[Message] = []
            quiet_since = time.monotonic()
            while True:
                batches = await consumer.getmany(*tps, timeout_ms=100, max_records=10000)
                for batch in batches.values():
                    messages.extend(
                        Message(m.partition, m.offset, m.key, m.value, tuple(m.headers or ())) for m in batch
                    )
                if any(batches.values()):
                    quiet_since = time.monotonic()
                    continue
                behind = [tp for tp in tps if await consumer.position(tp) < ends[tp]]
                if not behind and time.monotonic() - quiet_since >= idle:
                    break
            messages.sort(key=lambda m: (m.partition, m.offset))
            return messages
        finally:
            await consumer.stop()

    def end_offsets(self, topic: str) -> dict[int, int]:
        async def query() -> dict[int, int]:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
            await consumer.start()
            try:
                tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
                return {tp.partition: offset for tp, offset in (await consumer.end_offsets(tps)).items()}
            finally:
                await consumer.stop()

        return asyncio.run(asyncio.wait_for(query(), timeout=30))

    def wait_for_count(self, topic: str, at_least: int, timeout: float = 90.0) -> int:
        """Poll the topic's end offsets (every 5 ms) until they add up to `at_least`; returns the count seen."""

        async def poll() -> int:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
            await consumer.start()
            try:
                tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
                deadline = time.monotonic() + timeout
                while True:
                    total = sum((await consumer.end_offsets(tps)).values())
                    if total >= at_least:
                        return total
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{topic} holds {total} messages, not {at_least}, after {timeout:g} s")
                    await asyncio.sleep(0.005)
            finally:
                await consumer.stop()

        return asyncio.run(poll())

    def produce(self, messages: list[tuple[bytes | None, bytes]], topic: str = EVENTS_TOPIC) -> list[tuple[int, int]]:
        """Send (key, value) pairs in order, one at a time (acks=all); returns (partition, offset) of each."""

        async def send() -> list[tuple[int, int]]:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
            await producer.start()
            try:
                placed = []
                for key, value in messages:
                    metadata = await producer.send_and_wait(topic, value=value, key=key)
                    placed.append((metadata.partition, metadata.offset))
                return placed
            finally:
                await producer.stop()

        return asyncio.run(asyncio.wait_for(send(), timeout=60))

    def group_members(self, group: str) -> tuple[str, list[str]]:
        """(state, member ids) of a consumer group, as DescribeGroups reports it."""

        async def describe() -> tuple[str, list[str]]:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
            await admin.start()
            try:
                (response,) = await admin.describe_consumer_groups([group])
                _error, _group, state, _protocol_type, _protocol, members = response.groups[0][:6]
                return state, sorted(m[0] for m in members)
            finally:
                await admin.close()

        return asyncio.run(asyncio.wait_for(describe(), timeout=30))

    def wait_for_group(self, group: str, members: int, timeout: float = 60.0) -> None:
        """Until the group is Stable with exactly `members` members."""
        deadline = time.monotonic() + timeout
        while True:
            state, ids = self.group_members(group)
            if state == "Stable" and len(ids) == members:
                return
            assert time.monotonic() < deadline, f"group {group}: {state} with {ids} after {timeout:g} s"
            time.sleep(0.25)

    def projected(self, db: Path) -> dict[int, int]:
        """Per decisions partition, the last offset the projector committed to db (empty before it started)."""
        if not db.exists():
            return {}
        conn = sqlite3.connect(db, timeout=5)
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'projection_positions'").fetchone():
                return {}
            return projected_positions(conn)
        finally:
            conn.close()

    def decisions(self) -> dict[str, list[Any]]:
        """The decisions topic, deduplicated by id (first occurrence), per tenant in log order."""
        return dedupe_decisions(self.read_topic(DECISIONS_TOPIC))


def last_offsets(messages: list[Message]) -> dict[int, int]:
    """The offset of the last message per partition (partitions without messages left out)."""
    return {m.partition: m.offset for m in messages}


def run_cli(
    *args: str, cwd: Path, timeout: float = CLI_TIMEOUT, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("LICENSING_DB", "LICENSING_BOOTSTRAP")}
    result = subprocess.run(
        [str(LICENSING), *args], cwd=cwd, env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if check:
        assert result.returncode == 0, (
            f"licensing {' '.join(args)} exited {result.returncode}: {result.stderr.decode()}"
        )
    return result


# ---- embedded reference ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Embedded:
    """`licensing ingest FILE --db E.db`: the reference every Kafka run is compared with."""

    db: Path
    tmp: Path

    def export(self, tenant: str) -> str:
        return run_cli("export", "--tenant", tenant, "--db", str(self.db), cwd=self.tmp).stdout.decode()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def decisions(self) -> dict[str, list[Any]]:
        """The `decisions` table per tenant in order, as JSON values."""
        per_tenant: dict[str, list[Any]] = {}
        conn = sqlite3.connect(self.db)
        try:
            for _, tenant, body in decision_rows(conn):
                per_tenant.setdefault(tenant, []).append(json.loads(body))
        finally:
            conn.close()
        return per_tenant

    def dead_letter_reasons(self) -> dict[bytes, str]:
        return {bytes(body): reason for body, reason in self.query("SELECT body, reason FROM dead_letters")}


def table_counts(db: Path, table: str) -> dict[str, int]:
    """Rows of a read-model table per tenant."""
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute(f"SELECT tenant, count(*) FROM {table} GROUP BY tenant").fetchall())
    finally:
        conn.close()


def table_rows(db: Path, table: str, without: tuple[str, ...] = ("position",)) -> list[tuple[Any, ...]]:
    """Every row of a read-model table, sorted, without the columns that are positions in a log."""
    conn = sqlite3.connect(db)
    try:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in without]
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        return sorted(rows, key=repr)
    finally:
        conn.close()


def assert_same_as_embedded(kafka: Cluster, reference: Embedded, tenants: list[str]) -> dict[str, list[Any]]:
    """Per tenant: the export of kafka.db is byte-identical to the embedded one, the decisions topic deduplicated by
    id equals the embedded `decisions` rows in order, and rejected_commands / audit_log hold as many rows."""
    decisions = kafka.decisions()
    expected = reference.decisions()
    assert sorted(decisions) == sorted(expected) == sorted(tenants)
    for tenant in tenants:
        assert kafka.export(kafka.tmp / "kafka.db", tenant) == reference.export(tenant), f"export of {tenant}"
        assert len(decisions[tenant]) == len(expected[tenant]), f"decisions of {tenant}"
        for n, (got, want) in enumerate(zip(decisions[tenant], expected[tenant], strict=True)):
            assert got == want, f"decision {n} of {tenant}"
    for table in ("rejected_commands", "audit_log"):
        assert table_counts(kafka.tmp / "kafka.db", table) == table_counts(reference.db, table), table
    for table in READ_MODEL_TABLES:  # every read-model row, but for positions (a Kafka offset vs an event seq)
        assert table_rows(kafka.tmp / "kafka.db", table) == table_rows(reference.db, table), f"table {table}"
    return decisions


# ---- fixtures ------------------------------------------------------------------------------------------------


def _start_broker(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    last: Exception | None = None
    for _ in range(3):  # a free port can be taken between free_port() and the broker's bind
        port = free_port()
        try:
            return start_broker(port, log=tmp / "broker.log"), port
        except BrokerUnavailable as exc:
            last = exc
    raise AssertionError(f"the dev broker did not start: {last}")


@pytest.fixture
def kafka(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """A fresh broker with licensing.events / decisions / dead-letter, 4 partitions each."""
    broker, port = _start_broker(tmp_path)
    cluster = Cluster(tmp_path, f"127.0.0.1:{port}", broker)
    request.node._kafka_cluster = cluster
    try:
        cluster.cli("topics", "--bootstrap-server", cluster.bootstrap, "--partitions", str(PARTITIONS), timeout=60)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Callable[..., Embedded]:
    def ingest(path: Path, name: str = "embedded") -> Embedded:
        db = tmp_path / f"{name}.db"
        run_cli("ingest", str(path), "--db", str(db), cwd=tmp_path)
        return Embedded(db, tmp_path)

    return ingest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the tails of the broker, worker and projector logs to a failed test's report."""
    outcome = yield
    report = outcome.get_result()
    cluster: Cluster | None = getattr(item, "_kafka_cluster", None)
    if cluster is None or not report.failed:
        return
    for process in cluster.processes:
        state = "running" if process.alive else f"exit {process.popen.returncode}"
        report.sections.append((f"Captured log {process.name} ({state}, {process.log})", cluster.tail(process)))
    broker_log = cluster.tmp / "broker.log"
    if broker_log.exists():
        tail = "\n".join(broker_log.read_text(errors="replace").splitlines()[-40:])
        report.sections.append((f"Captured log broker ({broker_log})", tail))
