"""What a worker holds per input partition, and how one input message is decided into it.

A partition's state is the tenant states of the tenants it carries, the next offset to fold in, and a bounded
window of recently applied event ids. Redelivery of the same message (at least once) is recognised by its offset;
the window catches an event sent twice at two offsets (a producer's retry, a file published twice in a row).
Memory therefore grows with the tenants' size, never with the partition's history.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from events import ParseError, parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import STALE, decide, decide_changes, new_tenant
from processor.core.outputs import encode_output
from processor.core.state import TenantState
from processor.kafka import EVENTS_TOPIC
from processor.kafka.produce import Record

# Ids remembered per partition: far more than a producer retries or re-sends in a row; ~80 bytes each.
DEFAULT_DEDUPE_WINDOW = 100_000


def id_digest(tenant: str, event_id: str) -> int:
    """A stable 64-bit digest of (tenant, id): what the window keeps (a Python int, ~3x smaller than the strings).

    Stable across processes (snapshots keep it), unlike `hash()`. Two ids of a window colliding is a 1 in 10^9
    chance at 100,000 ids.
    """
    return int.from_bytes(hashlib.blake2b(f"{tenant}\x00{event_id}".encode(), digest_size=8).digest(), "little")


class RecentIds:
    """The last `capacity` event ids applied on a partition, oldest forgotten first."""

    __slots__ = ("capacity", "_order", "_members")

    def __init__(self, capacity: int = DEFAULT_DEDUPE_WINDOW, digests: Iterable[int] = ()) -> None:
        self.capacity = capacity
        self._order: deque[int] = deque()
        self._members: set[int] = set()
        for digest in digests:
            self.add(digest)

    def add(self, digest: int) -> bool:
        """Remember the id; False if it is in the window already (a duplicate)."""
        members = self._members
        if digest in members:
            return False
        members.add(digest)
        order = self._order
        order.append(digest)
        if len(order) > self.capacity:
            members.discard(order.popleft())
        return True

    def digests(self) -> list[int]:
        """Oldest first: `RecentIds(capacity, digests())` is the same window."""
        return list(self._order)

    def __len__(self) -> int:
        return len(self._order)


@dataclass(slots=True)
class PartitionState:
    next_offset: int = 0  # every message below it is folded in
    tenants: dict[str, TenantState] = field(default_factory=dict)
    recent: RecentIds = field(default_factory=RecentIds)

    def tenant(self, tenant_id: str) -> TenantState:
        state = self.tenants.get(tenant_id)
        if state is None:
            state = self.tenants[tenant_id] = new_tenant(tenant_id, shipped_catalog())
        return state

    def entities(self) -> int:
        """Users and groups of every tenant: the size a snapshot and a rebuild are proportional to."""
        return sum(len(t.users) + len(t.groups) for t in self.tenants.values())


@dataclass(slots=True)
class DecidedBatch:
    """The messages input events produce, until they are moved into record batches: decisions and dead letters."""

    decisions: list[Record] = field(default_factory=list)
    dead_letters: list[Record] = field(default_factory=list)
    events: int = 0  # input messages decided (dead letters and duplicates included)


def dead_letter_headers(reason: str, partition: int, offset: int) -> list[tuple[str, bytes]]:
    return [
        ("dlq.reason", reason.encode()),
        ("dlq.source-topic", EVENTS_TOPIC.encode()),
        ("dlq.source-partition", str(partition).encode()),
        ("dlq.source-offset", str(offset).encode()),
    ]


def decide_into(
    state: PartitionState, raw: bytes, key: bytes | None, partition: int, offset: int, out: DecidedBatch
) -> None:
    """Decide one input message, appending what it produces to `out`; a malformed one becomes a dead letter
    carrying the original bytes."""
    out.events += 1
    state.next_offset = offset + 1
    try:
        event = parse_event(raw)
    except ParseError as exc:
        tenant_key = exc.tenant.encode() if exc.tenant else key
        out.dead_letters.append((tenant_key, raw, dead_letter_headers(exc.reason, partition, offset)))
        return
    tenant_id = event.tenant
    if not state.recent.add(id_digest(tenant_id, event.id)):
        return
    decision = decide(state.tenant(tenant_id), event)
    if decision.status == STALE:
        return
    key_bytes = tenant_id.encode()
    out.decisions.extend([(key_bytes, encode_output(o), None) for o in decision.outputs])


def fold_in(state: PartitionState, raw: bytes, offset: int) -> None:
    """Decide one message silently, as a rebuild does: the same state changes as `decide_into`, no outputs built
    (they were published when the message was first decided)."""
    state.next_offset = offset + 1
    try:
        event = parse_event(raw)
    except ParseError:
        return
    if state.recent.add(id_digest(event.tenant, event.id)):
        decide_changes(state.tenant(event.tenant), event)
