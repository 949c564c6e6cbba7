"""The analyst's tools as JSON endpoints, extensions beside the Graph routes (under `/tenants/{tenant}/v1.0`):

* `GET  /users/{id}/licensing.explain[?skuId=&servicePlanId=]`   per-plan provenance of a user's licences
* `GET  /users/{id}/licensing.timeline`, `GET /groups/{id}/licensing.timeline`   entry changes with their causes
* `POST /licensing.whatIf`   what ingesting the events of the body would change (CloudEvents as `POST /events` takes)
* `POST /groups/{id}/licensing.whatIfAssignLicense`   the same for a group's `assignLicense` (an atomic swap)
* `GET  /licensing.fixPlan[?time=]`   the changes that clear every error, with their input events

Each answers the document of the command of the same name (`licensing explain --json` …). None writes: what-if and
the fix plan decide on a copy of the state the server's writer holds, the others read the log and the read models
on a connection of their own. A user is named by id or userPrincipalName, a group by id. In Kafka mode the log is on
the broker, not in the served database: these answer 501.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from processor.analysis.commands import CommandBatch, event_lines, now
from processor.analysis.explain import explain
from processor.analysis.fixplan import plan_for_state
from processor.analysis.lookup import UnknownName, copy_tenant, resolve_group, resolve_user
from processor.analysis.timeline import timeline
from processor.analysis.whatif import what_if
from processor.api.cloudevents import events_of
from processor.api.graph.bodies import AssignLicense
from processor.api.graph.errors import GraphError, bad_request, not_found
from processor.api.graph.odata import KnownTenant
from processor.api.graph.schemas import ERRORS, EXTENSIONS, ODataError
from processor.api.schemas import EVENTS_BODY
from processor.api.services import JSON, Services, Store
from processor.core.state import TenantState
from processor.embedded.asof import parse_time

ANSWERS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    415: {"model": ODataError, "description": "A content type the endpoint does not take."},
    501: {"model": ODataError, "description": "Kafka mode: the log these tools read is on the broker."},
}
router = APIRouter(tags=EXTENSIONS, responses=ANSWERS)


def _require_log(store: Services) -> None:
    if store.settings.bootstrap is not None:
        raise GraphError(501, "NotImplemented", "In Kafka mode the log is on the broker, not in the served database.")


@contextmanager
def _reading(store: Services) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the served store, for one request; what is not found is a 404."""
    _require_log(store)
    uri = f"file:{quote(str(Path(store.settings.database).resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
    conn.execute("PRAGMA query_only = 1")
    try:
        yield conn
    except UnknownName as exc:
        raise GraphError(404, "Request_ResourceNotFound", str(exc)) from None
    finally:
        conn.close()


def _state_copy(store: Services, tenant: str) -> TenantState:
    """A copy of the tenant's decided state, taken between two commands of the writer."""
    return store.desk.with_state(tenant, copy_tenant)


def _user(conn: sqlite3.Connection, tenant: str, ref: str) -> str:
    try:
        return resolve_user(conn, tenant, ref)
    except UnknownName:
        raise not_found(ref) from None


def _group(conn: sqlite3.Connection, tenant: str, ref: str) -> str:
    try:
        return resolve_group(conn, tenant, ref)
    except UnknownName:
        raise not_found(ref) from None


@router.get("/users/{user_id}/licensing.explain", response_model=None)
def explain_user(
    tenant: KnownTenant,
    user_id: str,
    store: Store,
    skuId: str | None = Query(None, description="Only this product (GUID or skuPartNumber)."),  # noqa: N803
    servicePlanId: str | None = Query(None, description="Only this plan (GUID or servicePlanName)."),  # noqa: N803
) -> JSON:
    """Extension: why the user has, or has not, each service plan (`licensing explain --json`)."""
    with _reading(store) as conn:
        found = _user(conn, tenant.tenant_id, user_id)
        try:
            return JSON(explain(conn, tenant.tenant_id, found, skuId, servicePlanId))
        except UnknownName as exc:  # an unknown product or plan in the query
            raise bad_request(str(exc)) from None


@router.get("/users/{user_id}/licensing.timeline", response_model=None)
def user_timeline(tenant: KnownTenant, user_id: str, store: Store) -> JSON:
    """Extension: every change of the user's licence entries, with its cause (`licensing timeline --json`)."""
    with _reading(store) as conn:
        return JSON(timeline(conn, tenant.tenant_id, user_id=_user(conn, tenant.tenant_id, user_id)))


@router.get("/groups/{group_id}/licensing.timeline", response_model=None)
def group_timeline(tenant: KnownTenant, group_id: str, store: Store) -> JSON:
    """Extension: every change of the licence entries of the group's members, former ones included."""
    with _reading(store) as conn:
        return JSON(timeline(conn, tenant.tenant_id, group_id=_group(conn, tenant.tenant_id, group_id)))


@router.post("/licensing.whatIf", response_model=None, openapi_extra={"requestBody": EVENTS_BODY})
async def what_if_events(tenant: KnownTenant, request: Request, store: Store) -> JSON:
    """Extension: what ingesting the events of the body (as `POST /events` takes them) would change; nothing is
    written (`licensing what-if --json`)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raws = events_of(media_type, await request.body())
    lines = [(f"what-if #{n}", raw) for n, raw in enumerate(raws, 1)]
    return JSON(await run_in_threadpool(_predict, store, tenant.tenant_id, lines))


@router.post("/groups/{group_id}/licensing.whatIfAssignLicense", response_model=None)
async def what_if_assign(tenant: KnownTenant, group_id: str, body: AssignLicense, store: Store) -> JSON:
    """Extension: what the group's `assignLicense` would change, removals and additions decided together (a swap
    without a clash in between); nothing is written."""

    def predict() -> dict[str, Any]:
        with _reading(store) as conn:
            found = _group(conn, tenant.tenant_id, group_id)
        batch = CommandBatch(tenant.tenant_id, "/what-if", now(), "what-if")
        batch.add("GroupLicensesChanged", {"groupId": found, **body.data()})
        return _predict(store, tenant.tenant_id, list(event_lines(batch.events, "what-if")))

    return JSON(await run_in_threadpool(predict))


def _predict(store: Services, tenant: str, lines: list[tuple[str, bytes]]) -> dict[str, Any]:
    with _reading(store) as conn:
        return what_if(conn, tenant, lines, _state_copy(store, tenant))


@router.get("/licensing.fixPlan", response_model=None)
def fix_plan(
    tenant: KnownTenant,
    store: Store,
    time: str | None = Query(None, description="The time the plan's events carry (RFC 3339; default: now)."),
) -> JSON:
    """Extension: for every licence entry in error, the change that clears it, with the input events that make it
    (`licensing fix-plan --json`; POST the events to /events to apply them)."""
    if time is not None:
        try:
            parse_time(time)
        except ValueError:
            raise bad_request(f"time {time!r} is not an RFC 3339 time with a UTC offset.") from None
    _require_log(store)
    return JSON(plan_for_state(_state_copy(store, tenant.tenant_id), time or now()))
