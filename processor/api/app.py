"""The HTTP application of `licensing serve`, built by `create_app(settings)`.

Routes are grouped in routers: Microsoft Graph v1.0 under `/tenants/{tenant}/v1.0`, CloudEvents at `/events`. More
surfaces (the dashboard) join by passing their routers: `create_app(settings, routers=[dashboard.router])`, or by
`app.include_router(router)` on the built app before it serves; a route gets the store through
`Depends(processor.api.services.services)` and reads it with `processor.api.reads.ReadModels`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response

from processor.api.desk import CommandDesk
from processor.api.graph import directory
from processor.api.graph.errors import GraphError, error_response
from processor.api.reads import ReadModels
from processor.api.services import Services
from processor.api.settings import ServeSettings

GRAPH_PREFIX = "/tenants/{tenant}/v1.0"


def create_app(settings: ServeSettings, routers: Sequence[APIRouter] = ()) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        desk = CommandDesk(settings.database)
        desk.warm_up()
        app.state.services = Services(settings, ReadModels(settings.database), desk)
        try:
            yield
        finally:
            desk.close()

    app = FastAPI(
        title="Licensing processor",
        summary="Microsoft Graph v1.0 licensing routes and CloudEvents ingestion over the embedded store.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(directory.router, prefix=GRAPH_PREFIX)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(GraphError)
    async def graph_error(request: Request, error: GraphError) -> Response:
        return error_response(request, error)

    @app.middleware("http")
    async def request_ids(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = str(uuid.uuid4())
        response = await call_next(request)
        response.headers["request-id"] = request.state.request_id
        if "client-request-id" in request.headers:
            response.headers["client-request-id"] = request.headers["client-request-id"]
        return response

    return app
