"""CloudEvents over HTTP for upstream systems: `POST /events` in structured, batch or JSON Lines mode.

The events go through the very path of `licensing ingest`: the same parsing, deduplication by id and dead-lettering
of what is not an applicable event (the rest of the batch is still decided). Only a body that is not what its
content type says (a batch that is not a JSON array) is refused whole, and then nothing is stored.
"""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from processor.api.graph.errors import GraphError, bad_request
from processor.api.schemas import EVENTS_BODY, EventsAnswer, EventsPublished
from processor.api.services import JSON, Store

router = APIRouter(tags=["CloudEvents"])

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON_LINES = frozenset(
    {"application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines"}
)
REPORTED = 100  # rejections and dead-letter reasons listed in an answer (all are counted)
_batch = msgspec.json.Decoder(list[msgspec.Raw])


def events_of(media_type: str, body: bytes) -> list[bytes]:
    """The raw events of a body, each as `ingest` would read it from a line."""
    if media_type in JSON_LINES:
        return [line.rstrip(b"\r") for line in body.split(b"\n")]
    if media_type == "application/json":  # plain JSON: an array is a batch, anything else one event
        media_type = BATCH if body.lstrip().startswith(b"[") else STRUCTURED
    if media_type == STRUCTURED:
        if not body.strip():
            raise bad_request("The body is empty: structured mode carries one event.")
        return [body.strip()]
    if media_type == BATCH:
        try:
            return [bytes(raw) for raw in _batch.decode(body)]
        except msgspec.DecodeError as exc:
            raise bad_request(f"A batch is a JSON array of events: {exc}.") from None
    raise GraphError(
        415,
        "UnsupportedMediaType",
        f"Content type {media_type or '(none)'!r} is not accepted: send {STRUCTURED}, {BATCH} or application/x-ndjson.",
    )


@router.post(
    "/events",
    response_model=None,
    responses={
        200: {"model": EventsAnswer, "description": "Logged and decided."},
        202: {"model": EventsPublished, "description": "Published to licensing.events (Kafka mode)."},
        400: {"description": "The body is not what its content type says; nothing was stored."},
        415: {"description": "A content type this endpoint does not take."},
    },
    openapi_extra={"requestBody": EVENTS_BODY},
)
async def post_events(request: Request, store: Store) -> JSON:
    """Append the events to the log and decide them, as `licensing ingest` does with a file of the same lines."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    events = events_of(media_type, await request.body())
    origin = f"POST /events {request.state.request_id}"
    lines = [(f"{origin} #{n}", raw) for n, raw in enumerate(events, 1)]
    ingested = await run_in_threadpool(store.desk.ingest, lines)
    if ingested is None:
        return JSON({"published": sum(1 for raw in events if raw.strip())}, status_code=202)
    summary = ingested.summary
    return JSON(
        {
            "accepted": summary.accepted,
            "duplicates": summary.duplicates,
            "stale": summary.stale,
            "deadLettered": summary.dead_lettered,
            "rejected": len(ingested.rejections),
            "deadLetterReasons": summary.reasons[:REPORTED],
            "rejections": [
                {"eventId": r.event_id, "tenant": r.tenant, "type": r.type, "error": r.error, "message": r.message}
                for r in ingested.rejections[:REPORTED]
            ],
        }
    )
