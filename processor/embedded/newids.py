"""Which event ids an ingest has logged for the tenants that had none in the log when it began.

Every event's id is looked up in `event_ids` before it is decided (a resent event is a duplicate). For a tenant new
to the log, only the ingest itself can have logged its ids (another process appending meanwhile makes the ingest
fail with LogAppendedElsewhere when it writes), so a filter of the ids it has logged answers "certainly new" for
most ids without a lookup: a first load of a tenant, a million events, looks up at most ~6 % of its ids (0.12 µs
an id instead of 0.46 for the lookup).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

SLOTS = 1 << 24  # one byte per slot: 16 MiB; with 1,000,000 ids marked, 6 % of new ids are looked up anyway


class NewTenantIds:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._marked = bytearray(SLOTS)
        self._salts: dict[str, int | None] = {}  # tenant -> its salt, or None: it had ids in the log already

    def salt(self, tenant: str) -> int | None:
        """The tenant's salt if it had no id in the log when this ingest first saw it, else None (look ids up)."""
        try:
            return self._salts[tenant]
        except KeyError:
            logged = self._conn.execute("SELECT 1 FROM event_ids WHERE tenant = ? LIMIT 1", (tenant,)).fetchone()
            salt = self._salts[tenant] = None if logged else hash(tenant)
            return salt

    def maybe_logged(self, salt: int, ids: Iterable[str]) -> list[str]:
        """Those of the tenant's ids this ingest may have logged: all it has, and a few others. Marks them all, as
        each is about to be logged or is a duplicate."""
        marked, mask = self._marked, SLOTS - 1
        maybe = []
        for event_id in ids:
            slot = (hash(event_id) ^ salt) & mask
            if marked[slot]:
                maybe.append(event_id)
            else:
                marked[slot] = 1
        return maybe
