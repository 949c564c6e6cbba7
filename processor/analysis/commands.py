"""Input events the analyst tools propose (a fix plan, a what-if edit, a reprocess): CloudEvents in the ingest format.

Ids are derived from the tenant, the time, the event's place in its batch and its content, so the same proposal
made for the same moment has the same ids: ingesting its file twice applies it once, as any file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Command = tuple[str, dict[str, Any]]  # (input type, data): an event before its envelope


def now() -> str:
    """The current time in the events' format (RFC 3339, UTC, seconds): when the analyst acts."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CommandBatch:
    """Input events of one tenant, published by `source` at `time`, in the order they are to be decided."""

    def __init__(self, tenant_id: str, source: str, time: str, prefix: str) -> None:
        self.tenant_id = tenant_id
        self.source = source
        self.time = time
        self.prefix = prefix
        self.events: list[dict[str, Any]] = []

    def preview(self, commands: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """The events `commands` ((type, data) pairs) would be if added next; `extend` adds them."""
        return [self._event(len(self.events) + n, t, data) for n, (t, data) in enumerate(commands, 1)]

    def extend(self, events: list[dict[str, Any]]) -> None:
        self.events.extend(events)

    def add(self, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        (event,) = self.preview([(event_type, data)])
        self.events.append(event)
        return event

    def _event(self, n: int, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        content = json.dumps([self.tenant_id, self.time, n, event_type, data], sort_keys=True).encode()
        return {
            "specversion": "1.0",
            "id": f"{self.prefix}-{hashlib.sha256(content).hexdigest()[:16]}-{n}",
            "source": self.source,
            "type": event_type,
            "time": self.time,
            "tenant": self.tenant_id,
            "datacontenttype": "application/json",
            "data": data,
        }


def event_lines(events: Iterable[dict[str, Any]], origin: str) -> Iterator[tuple[str, bytes]]:
    """The events as (origin, line) pairs, as `ingest` reads a file."""
    for number, event in enumerate(events, 1):
        yield f"{origin}:{number}", json.dumps(event, separators=(",", ":")).encode()


def write_events(events: Iterable[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for _, line in event_lines(events, str(path)):
            out.write(line.decode() + "\n")
