"""What the dashboard draws over time, read from the decisions log as it grows: per-day series and users' changes.

The read models hold the present only; the log holds every decision. `LogHistory` reads each decision block once, in
log order, and keeps what the charts need bucketed by day (seats consumed and prepaid per product, users in error per
group and per tenant) and, per user, each change of their licence assignment states as two integers. What it keeps
grows with the days and the changes, never with a page: a chart is one point per day with a change, and a user's
history page reads one log line per event it shows.

An event's day is the UTC date of its `time`; an event dated before the latest day already read (a late arrival)
counts on that latest day, so every series runs forward in time. The embedded store keeps the decisions log; a store
without one (the projector's database in Kafka mode) has no history, and the charts say so.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from processor.api.readonly import ReadOnlyConnections
from processor.embedded import eventlog

# Events, or outputs of one event, read between two voluntary releases of the interpreter's lock (~0.5 ms). A
# thread waiting for the lock otherwise waits for the switch interval (5 ms) at each of its I/O calls while the
# history is read, and a Graph request makes many. Measured on a 100,000-user tenant, 600 Graph reads right after
# the first dashboard page: without these releases 5 and 8 of them took over 30 ms (up to 522 ms); with them none
# did (at most 17 ms). With the tenant's state in memory (its events just posted), releasing only between events
# still left 10-12 over 30 ms (up to 165 ms): one event can have tens of thousands of outputs.
YIELD_EVERY = 100

IN_ERROR = frozenset({"Error", "ActiveWithError"})
DIRECT = ""  # the source key of direct assignments
TENANT_WIDE = None  # the source key of a tenant's users in error from any source


# The structs decoded per output are untracked by the cyclic garbage collector (gc=False: they hold strings and
# numbers only, so they can be in no cycle). With them and `_UserChanges` below, reading a 100,000-user tenant's
# 454,873 events ran 1 full collection instead of 11 (0.02 s instead of 0.87 s): pauses that stop every thread.


class _Units(msgspec.Struct, gc=False):
    enabled: int = 0
    warning: int = 0


class _OutputData(msgspec.Struct, gc=False):
    """The fields of an output's data that the history keeps (the rest are skipped unread)."""

    userId: str | None = None
    skuId: str | None = None
    skuPartNumber: str | None = None
    assignedByGroup: str | None = None
    state: str | None = None
    error: str | None = None
    previousState: str | None = None
    previousError: str | None = None
    prepaidUnits: _Units | None = None
    consumedUnits: int = 0


class _Envelope(msgspec.Struct, gc=False):
    tenant: str
    time: str
    type: str = ""
    source: str = ""


_outputs = msgspec.json.Decoder(list[tuple[str, _OutputData]])  # a fifth of the memory of dicts, and faster
_envelope = msgspec.json.Decoder(_Envelope)


def day_of(time: str) -> str:
    """The UTC date (YYYY-MM-DD) of an RFC 3339 time."""
    if time.endswith("Z"):
        return time[:10]
    try:
        return datetime.fromisoformat(time).astimezone(UTC).strftime("%Y-%m-%d")
    except ValueError:
        return time[:10]


@dataclass(slots=True)
class DaySeries:
    """A value per day with a change (the day's last value), days ascending."""

    days: list[str] = field(default_factory=list)
    values: list[tuple[int, ...]] = field(default_factory=list)

    def record(self, day: str, value: tuple[int, ...]) -> None:
        if self.days and day <= self.days[-1]:
            self.values[-1] = value  # the same day, or a late arrival: it holds from the latest day read
        else:
            self.days.append(day)
            self.values.append(value)


@dataclass(frozen=True, slots=True)
class EntryChange:
    """One licence assignment state of a user changed: from `previous` to `state` (None: no such entry)."""

    sku_id: str
    sku_part_number: str
    assigned_by_group: str | None
    previous_state: str | None
    previous_error: str | None
    state: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class UserEvent:
    """An event of the log that changed some of a user's licence assignment states."""

    position: int
    time: str
    type: str
    source: str
    changes: list[EntryChange]


class _Codes:
    """Small integers for the few distinct strings of a tenant's changes (SKUs, groups, states, errors)."""

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self._index: dict[str | None, int] = {None: 0}

    def code(self, value: str | None) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found


# A change packed in one integer: SKU (12 bits), group (24), previous state (4), previous error (4), state, error.
# Past those sizes (4,096 SKUs, 16 million groups) codes would wrap: far beyond any tenant or catalogue.
_FIELDS = ((12, "skus"), (24, "groups"), (4, "states"), (4, "errors"), (4, "states"), (4, "errors"))
_CODED = ("skus", "groups", "states", "errors")


@dataclass(slots=True)
class _UserChanges:
    """Every change of a tenant's users in reading order, each linked to the same user's previous one.

    Three arrays for the tenant, not two per user: a process's cyclic garbage collector walks every array at each
    full collection, and 100,000 users' 200,000 arrays made each one pause the server for ~36 ms.
    """

    positions: array[int] = field(default_factory=lambda: array("q"))
    packed: array[int] = field(default_factory=lambda: array("q"))
    previous: array[int] = field(default_factory=lambda: array("q"))  # the user's change before it, or -1
    latest: dict[str, int] = field(default_factory=dict)  # user -> their latest change

    def add(self, user_id: str, position: int, packed: int) -> None:
        self.previous.append(self.latest.get(user_id, -1))
        self.latest[user_id] = len(self.positions)
        self.positions.append(position)
        self.packed.append(packed)

    def of_user(self, user_id: str, before: int | None) -> Iterator[tuple[int, int]]:
        """(position, packed change) of the user's changes before position `before`, newest first."""
        at = self.latest.get(user_id, -1)
        while at >= 0:
            position = self.positions[at]
            if before is None or position < before:
                yield position, self.packed[at]
            at = self.previous[at]


@dataclass(slots=True)
class _TenantHistory:
    products: dict[str, DaySeries] = field(default_factory=dict)  # skuId -> (consumed, prepaid) per day
    errors: dict[str | None, DaySeries] = field(default_factory=dict)  # source -> (users in error,) per day
    error_entries: dict[tuple[str | None, str], int] = field(default_factory=dict)  # (source, user) -> entries
    users_in_error: dict[str | None, int] = field(default_factory=dict)  # source -> users
    changes: _UserChanges = field(default_factory=_UserChanges)
    part_numbers: dict[str, str] = field(default_factory=dict)
    last_day: str = ""  # the latest day read
    codes: dict[str, _Codes] = field(default_factory=lambda: {name: _Codes() for name in _CODED})

    def pack(self, data: _OutputData) -> int:
        packed = 0
        values = (data.skuId, data.assignedByGroup, data.previousState, data.previousError, data.state, data.error)
        for (bits, table), value in zip(_FIELDS, values):
            packed = (packed << bits) | (self.codes[table].code(value) & ((1 << bits) - 1))
        return packed

    def unpack(self, packed: int) -> EntryChange:
        values: list[str | None] = []
        for bits, table in reversed(_FIELDS):
            values.append(self.codes[table].values[packed & ((1 << bits) - 1)])
            packed >>= bits
        error, state, previous_error, previous_state, group, sku = values
        sku_id = sku or ""
        part_number = self.part_numbers.get(sku_id, sku_id)
        return EntryChange(sku_id, part_number, group, previous_state, previous_error, state, error)


class LogHistory:
    """Series and user changes of every tenant of one database, caught up with its decisions log on demand."""

    def __init__(self, database: Path) -> None:
        self._conn = ReadOnlyConnections(database).get
        self._lock = threading.Lock()
        self._tenants: dict[str, _TenantHistory] = {}
        self._read_to = 0  # first_seq of the last decision block read

    def kept(self) -> bool:
        """Whether this store keeps a decisions log at all."""
        found = self._conn().execute("SELECT 1 FROM sqlite_master WHERE name = 'decision_blocks'").fetchone()
        return found is not None

    def catch_up(self) -> None:
        """Read the decision blocks written since the last call (all of them, the first time)."""
        with self._lock:
            if not self.kept():
                return
            conn = self._conn()
            newest = conn.execute("SELECT coalesce(max(first_seq), 0) FROM decision_blocks").fetchone()[0]
            if newest < self._read_to:  # the log was replayed into a new decisions log: read it afresh
                self._tenants, self._read_to = {}, 0
            cursor = conn.execute(
                "SELECT l.first_seq, l.lines, d.outputs FROM decision_blocks d JOIN log_blocks l USING (first_seq) "
                "WHERE d.first_seq > ? ORDER BY d.first_seq",
                (self._read_to,),
            )
            while rows := cursor.fetchmany(16):
                for first, packed_lines, packed_outputs in rows:
                    lines, outputs = eventlog.unpack(packed_lines), eventlog.unpack(packed_outputs)
                    for position, (raw, stored) in enumerate(zip(lines, outputs), first):
                        if position % YIELD_EVERY == 0:
                            time.sleep(0)  # let the server's request threads take the interpreter's lock
                        if stored:
                            event = _envelope.decode(raw)
                            tenant = self._tenants.setdefault(event.tenant, _TenantHistory())
                            day = max(day_of(event.time), tenant.last_day)
                            tenant.last_day = day
                            _read_outputs(tenant, position, day, _outputs.decode(stored))
                    self._read_to = first

    # ---- what the pages ask ----------------------------------------------------------------------------------

    def last_day(self, tenant: str) -> str | None:
        found = self._tenants.get(tenant)
        return found.last_day if found else None

    def product_series(self, tenant: str, sku_id: str) -> DaySeries:
        """(seats consumed, seats prepaid: enabled + warning) per day."""
        found = self._tenants.get(tenant)
        return found.products.get(sku_id, DaySeries()) if found else DaySeries()

    def errors_series(self, tenant: str, source: str | None) -> DaySeries:
        """(users in error,) per day from one group's licences, DIRECT ones, or (TENANT_WIDE) any source."""
        found = self._tenants.get(tenant)
        return found.errors.get(source, DaySeries()) if found else DaySeries()

    def user_events(self, tenant: str, user_id: str, before: int | None, limit: int) -> list[UserEvent]:
        """The latest `limit` events that changed the user's licence states, before position `before`, newest first."""
        found = self._tenants.get(tenant)
        if found is None:
            return []
        events: list[UserEvent] = []
        for position, packed in found.changes.of_user(user_id, before):
            if events and events[-1].position == position:
                events[-1].changes.insert(0, found.unpack(packed))  # another change of the same event
                continue
            if len(events) == limit:
                break
            envelope = self._envelope_at(position)
            events.append(UserEvent(position, envelope.time, envelope.type, envelope.source, [found.unpack(packed)]))
        return events

    def _envelope_at(self, position: int) -> _Envelope:
        """The envelope of the logged event at `position` (one block of input lines read)."""
        row = (
            self._conn()
            .execute(
                "SELECT first_seq, lines FROM log_blocks WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1",
                (position,),
            )
            .fetchone()
        )
        lines = eventlog.unpack(row[1]) if row else []
        at = position - row[0] if row else -1
        if not 0 <= at < len(lines):
            return _Envelope("", "", "", "")
        return _envelope.decode(lines[at])


def _read_outputs(tenant: _TenantHistory, position: int, day: str, outputs: list[tuple[str, _OutputData]]) -> None:
    """Fold one event's outputs into the tenant's history."""
    for n, (kind, data) in enumerate(outputs, 1):
        if n % YIELD_EVERY == 0:
            time.sleep(0)  # a licence on a large group: tens of thousands of outputs
        if kind == "LicenseAssignmentStateChanged" and data.userId is not None:
            user_id = data.userId
            tenant.changes.add(user_id, position, tenant.pack(data))
            if data.skuId is not None and data.skuPartNumber is not None:
                tenant.part_numbers[data.skuId] = data.skuPartNumber
            was, now = data.previousState in IN_ERROR, data.state in IN_ERROR
            if was != now:
                step = 1 if now else -1
                _count_error(tenant, day, data.assignedByGroup or DIRECT, user_id, step)
                _count_error(tenant, day, TENANT_WIDE, user_id, step)
        elif kind == "ProductUsageChanged" and data.skuId is not None and data.prepaidUnits is not None:
            units = data.prepaidUnits
            series = tenant.products.setdefault(data.skuId, DaySeries())
            series.record(day, (data.consumedUnits, units.enabled + units.warning))


def _count_error(tenant: _TenantHistory, day: str, source: str | None, user_id: str, step: int) -> None:
    """One more (or one fewer) entry of the user in error from `source`; the series counts users, not entries."""
    key = (source, user_id)
    entries = tenant.error_entries.get(key, 0) + step
    if entries > 0:
        tenant.error_entries[key] = entries
    else:
        tenant.error_entries.pop(key, None)
    if (entries > 0) == (entries - step > 0):
        return  # in error from this source before and still, or neither
    users = tenant.users_in_error.get(source, 0) + (1 if entries > 0 else -1)
    tenant.users_in_error[source] = users
    tenant.errors.setdefault(source, DaySeries()).record(day, (users,))
