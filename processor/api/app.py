"""The HTTP application of `licensing serve`, built by `create_app(settings)`.

Routes are grouped in routers: Microsoft Graph v1.0 under `/tenants/{tenant}/v1.0`, CloudEvents at `/events`. More
surfaces (the dashboard) join by passing their routers, `create_app(settings, routers=[dashboard.router])`, or by
`app.include_router(router)` on the built app before it serves. A route gets the store with a parameter
`store: processor.api.services.Store`: `store.reads` (processor.api.reads: paged queries in domain names) for what
it shows, `store.desk` (processor.api.desk) or processor.api.commands for what it changes.

Every answer that is not a success is Graph's error object, for every route: a malformed request is a 4xx with a
one-line message and changes nothing, and no traceback reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from processor.analysis.alerts import AlertService
from processor.api import analyst, cloudevents, dashboard
from processor.api.desk import CommandDesk, Desk
from processor.api.graph import directory, groups, users
from processor.api.graph.errors import BAD_REQUEST, GraphError, error_response
from processor.api.guard import Guard
from processor.api.publisher import PublishingDesk
from processor.api.reads import ReadModels
from processor.api.services import Services
from processor.api.settings import ServeSettings
from processor.embedded.database import open_database

GRAPH_PREFIX = "/tenants/{tenant}/v1.0"
GRAPH_ROOTS = frozenset({"users", "groups", "subscribedSkus", "organization", "auditLogs"})
log = logging.getLogger("licensing.api")


def create_app(settings: ServeSettings, routers: Sequence[APIRouter] = ()) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        desk = open_desk(settings)
        desk.warm_up()
        app.state.services = Services(settings, ReadModels(settings.database), desk)
        alerts = AlertService(settings.database, settings.webhook) if settings.webhook else None
        if alerts is not None:
            alerts.start()
        try:
            yield
        finally:
            if alerts is not None:
                alerts.stop(timeout=10)
            desk.close()

    app = FastAPI(
        title="Licensing processor",
        summary="Microsoft Graph v1.0 licensing routes and CloudEvents ingestion over the embedded store.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: /openapi.json is the document
        redoc_url=None,
    )
    for graph_router in (users.router, groups.router, directory.router, analyst.router):
        app.include_router(graph_router, prefix=GRAPH_PREFIX)
    app.include_router(cloudevents.router)
    app.include_router(dashboard.router)
    for router in routers:
        app.include_router(router)
    _answer_errors_as_graph(app)
    app.add_middleware(Guard, settings=settings)
    return app


def open_desk(settings: ServeSettings) -> Desk:
    """The embedded store's writer, or in Kafka mode a publisher (the projector writes the database then)."""
    if settings.bootstrap is None:
        return CommandDesk(settings.database)
    open_database(settings.database).close()  # its schema, as `licensing project` creates it
    return PublishingDesk(settings.bootstrap)


def _answer_errors_as_graph(app: FastAPI) -> None:
    @app.exception_handler(GraphError)
    async def graph_error(request: Request, error: GraphError) -> Response:
        return error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        return error_response(request, _first_problem(error))

    @app.exception_handler(HTTPException)
    async def no_such_route(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:
            return error_response(request, _unknown_path(request))
        return error_response(request, GraphError(error.status_code, "Request_BadRequest", str(error.detail)))

    @app.exception_handler(Exception)
    async def failure(request: Request, error: Exception) -> Response:
        log.exception("unexpected failure answering %s %s", request.method, request.url.path)
        return error_response(request, GraphError(500, "generalException", "The server failed to answer the request."))


def _first_problem(error: RequestValidationError) -> GraphError:
    problems = error.errors()
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "body"
    if first.get("type") == "json_invalid":
        return GraphError(400, BAD_REQUEST, "The request body is not valid JSON.")
    message = f"Invalid value specified for property '{where}': {first.get('msg', 'invalid')}."
    more = len(problems) - 1
    return GraphError(400, BAD_REQUEST, message + (f" ({more} more problem{'s' if more > 1 else ''})" if more else ""))


def _unknown_path(request: Request) -> GraphError:
    """Graph answers a path it has no resource for with 400 naming the segment; other paths are 404."""
    parts = request.url.path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "tenants" and parts[2] == "v1.0":
        segments = parts[3:] or [""]
        segment = segments[0] if segments[0] not in GRAPH_ROOTS else segments[-1]
        return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
    return GraphError(404, "NotFound", f"There is nothing at {request.url.path}.")
