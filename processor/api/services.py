"""What every route reads and writes through: the settings, the read side and the command desk, per application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from processor.api.desk import Desk
from processor.api.reads import ReadModels
from processor.api.settings import ServeSettings


@dataclass(slots=True)
class Services:
    settings: ServeSettings
    reads: ReadModels
    desk: Desk


def services(request: Request) -> Services:
    """The application's services (a FastAPI dependency: `Depends(services)`)."""
    found: Services = request.app.state.services
    return found


Store = Annotated[Services, Depends(services)]  # a route's parameter `store: Store` gets the services


class JSON(JSONResponse):
    """JSON rendered by orjson (Graph pages of 999 users are the largest answers)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
