"""Checking the whole embedded log for damage (bit rot, a torn copy), block by block, without changing anything.

Every log and decisions block is checked against its digest and its compression checksum and must hold as many
events as the log says; the log's blocks must follow each other without gaps; every log block must have its
decisions block; and the tenant index (block_tenants) must name exactly the tenants of each block's events, since
loading a tenant reads the blocks it names and no others.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from events import ParseError, parse_event
from processor.embedded import eventlog
from processor.embedded.errors import LogCorrupted


@dataclass(slots=True)
class LogCheck:
    blocks: int = 0  # log blocks
    events: int = 0
    damaged: list[LogCorrupted] = field(default_factory=list)

    def line(self) -> str:
        state = f"{len(self.damaged)} damaged" if self.damaged else "intact"
        return f"{self.blocks} blocks, {self.events} events: {state}"


def verify_log(conn: sqlite3.Connection, progress: Callable[[int], None] | None = None) -> LogCheck:
    """Check every block (see the module's docstring); `progress(n)` is told of each block's n events."""
    eventlog.require_event_log(conn)
    check = LogCheck()
    indexed = eventlog.has_layout(conn, eventlog.DIGESTS_LAYOUT)
    digest = "digest" if indexed else "NULL"
    index: dict[int, set[str]] = {}
    if indexed:
        for tenant, first in conn.execute("SELECT tenant, first_seq FROM block_tenants"):
            index.setdefault(first, set()).add(tenant)
    counts: dict[int, int] = {}  # first seq -> events, of every log block
    expected: int | None = 1  # where the next block starts, if the one before is intact
    for first, count, packed, stored in conn.execute(
        f"SELECT first_seq, events, lines, {digest} FROM log_blocks ORDER BY first_seq"
    ):
        check.blocks += 1
        check.events += count
        counts[first] = count
        if expected is not None and first != expected:
            check.damaged.append(LogCorrupted("log_blocks", first, count, f"the log before it ends at {expected - 1}"))
        expected = None
        listed = index.pop(first, set())
        try:
            lines = eventlog.open_block("log_blocks", first, count, packed, stored)
            tenants = {parse_event(raw).tenant for raw in lines}
        except LogCorrupted as exc:
            check.damaged.append(exc)
        except ParseError as exc:
            check.damaged.append(LogCorrupted("log_blocks", first, count, f"an event does not parse: {exc.reason}"))
        else:
            expected = first + count
            if indexed and listed != tenants:
                why = f"the tenant index lists {sorted(listed)} for tenants {sorted(tenants)}"
                check.damaged.append(LogCorrupted("block_tenants", first, count, why))
        if progress:
            progress(count)
    for first in sorted(index):  # index rows of no log block
        check.damaged.append(LogCorrupted("block_tenants", first, 1, "it names a block the log does not hold"))
    damaged_log = {damage.first_seq for damage in check.damaged if damage.table == "log_blocks"}
    decided: set[int] = set()
    for first, packed, stored in conn.execute(f"SELECT first_seq, outputs, {digest} FROM decision_blocks"):
        decided.add(first)
        if first not in counts:
            check.damaged.append(LogCorrupted("decision_blocks", first, 1, "it decides no block of the log"))
            continue
        try:  # (the count of a damaged log block is no measure)
            eventlog.open_block("decision_blocks", first, counts[first], packed, stored, first not in damaged_log)
        except LogCorrupted as exc:
            check.damaged.append(exc)
    for first in sorted(counts.keys() - decided):
        check.damaged.append(LogCorrupted("decision_blocks", first, counts[first], "it is missing"))
    check.damaged.sort(key=lambda damage: (damage.first_seq, damage.table))
    return check
