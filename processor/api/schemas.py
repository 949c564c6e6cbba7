"""The answers and bodies of `POST /events` as OpenAPI schemas (the Graph routes have theirs in graph.schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Rejected(BaseModel):
    eventId: str
    tenant: str
    type: str
    error: str
    message: str


class EventsAnswer(BaseModel):
    """What became of the posted events, counted as `licensing ingest` counts them, plus the refused commands."""

    accepted: int
    duplicates: int
    stale: int
    deadLettered: int
    rejected: int
    deadLetterReasons: list[str]  # the first few, "origin: reason"
    rejections: list[Rejected]  # the first 100


class EventsPublished(BaseModel):
    published: int


_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["specversion", "id", "source", "type", "time", "tenant", "data"],
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {"type": "string"},
        "source": {"type": "string"},
        "type": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "tenant": {"type": "string"},
        "datacontenttype": {"type": "string"},
        "data": {"type": "object"},
    },
}
EVENTS_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/cloudevents+json": {"schema": _EVENT},
        "application/cloudevents-batch+json": {"schema": {"type": "array", "items": _EVENT}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "One event per line."}},
    },
}
