"""`licensing wait`: has everything published so far been decided and projected?"""

from __future__ import annotations

import asyncio
import time

from processor.embedded import open_database
from processor.kafka import DECISIONS_TOPIC, EVENTS_TOPIC, WORKER_GROUP
from processor.kafka.admin import committed_offsets, end_offsets
from processor.kafka.projector import projected_positions


async def wait_until_projected(bootstrap: str, db: str, timeout: float, poll: float = 0.25) -> bool:
    """True once the workers have committed every input and the read models hold every decision.

    Checked twice in a row with the decisions log unchanged, because a worker commits its input offsets
    asynchronously to publishing the decisions of those inputs.
    """
    deadline = time.monotonic() + timeout
    conn = open_database(db)
    settled: dict[int, int] | None = None
    while time.monotonic() < deadline:
        inputs = await end_offsets(bootstrap, EVENTS_TOPIC)
        committed = await committed_offsets(bootstrap, WORKER_GROUP, EVENTS_TOPIC)
        if all(committed.get(p, 0) >= end for p, end in inputs.items()):
            decisions = await end_offsets(bootstrap, DECISIONS_TOPIC)
            projected = projected_positions(conn)
            caught_up = all(projected.get(p, -1) >= end - 1 for p, end in decisions.items() if end > 0)
            if caught_up and decisions == settled:
                return True
            settled = decisions if caught_up else None
        else:
            settled = None
        await asyncio.sleep(poll)
    return False
