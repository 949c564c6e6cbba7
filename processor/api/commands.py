"""Admin actions as input events: built at the edge (an id, the request's time), then decided by the desk.

An action of the Graph surface becomes the input event a publisher would send for it (a wire type of `events`), so
the log holds the admin's command like any other event and a replay decides it the same way. The event id is the
request's `client-request-id` when the client sent one (Microsoft's SDKs send one per request and keep it on a
retry, so a retried command is a duplicate, decided once), else a new UUID.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import Request

from processor.api.desk import Rejection
from processor.api.services import Services

SOURCE = "/licensing-api"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class Command:
    tenant: str
    event_id: str
    line: bytes  # the CloudEvent, as a line of the log


@dataclass(frozen=True, slots=True)
class Outcome:
    decided: bool  # False: published for the Kafka workers, decided there (the answer is 202)
    rejection: Rejection | None = None


def event_id_for(request: Request) -> str:
    given = request.headers.get("client-request-id", "")
    return given.lower() if _GUID.fullmatch(given) else new_event_id()


def new_event_id() -> str:
    return str(uuid.uuid4())


def now() -> str:
    """The time the command was received: decisions are stamped with it (RFC 3339, UTC, milliseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def command(tenant: str, event_type: str, data: dict[str, Any], event_id: str) -> Command:
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": SOURCE,
        "type": event_type,
        "time": now(),
        "tenant": tenant,
        "datacontenttype": "application/json",
        "data": data,
    }
    return Command(tenant, event_id, orjson.dumps(event))


def submit(store: Services, commands: list[Command]) -> list[Outcome]:
    """Decide the commands in one batch; each outcome says whether (and why) it was refused. A command retried with
    its client-request-id was decided the first time: its answer is the one on record."""
    ingested = store.desk.submit([(c.tenant, c.event_id, (f"{SOURCE}:{c.event_id}", c.line)) for c in commands])
    if ingested is None:
        return [Outcome(decided=False) for _ in commands]
    outcomes = []
    for c in commands:
        rejection = ingested.rejection_of(c.event_id)
        if c.event_id in ingested.retried:
            earlier = store.reads.rejection_of(c.tenant, c.event_id)
            if earlier is not None:
                rejection = Rejection(
                    c.tenant, c.event_id, earlier.type, earlier.error, earlier.message, earlier.detail
                )
        outcomes.append(Outcome(decided=True, rejection=rejection))
    return outcomes
