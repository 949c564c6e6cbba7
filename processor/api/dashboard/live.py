"""What the dashboard's script asks for: the log position (to refresh a page), chart series, and its static files.

The static files are the package's own (the charting library uPlot, MIT, vendored with its licence beside it): the
server serves them itself, from a fixed list, so a page needs nothing from any other site.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from processor.api.dashboard.history import TENANT_WIDE, DaySeries
from processor.api.dashboard.services import Board
from processor.api.graph.errors import GraphError, bad_request, not_found
from processor.api.services import JSON

router = APIRouter(tags=["Dashboard"])
_static = resources.files("processor.api.dashboard") / "static"
STATIC = {  # name -> media type: the only files served
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "uPlot.iife.min.js": "text/javascript; charset=utf-8",
    "uPlot.min.css": "text/css; charset=utf-8",
    "uPlot.LICENSE": "text/plain; charset=utf-8",
}


class Position(BaseModel):
    position: int  # how far the read models have applied the log


class Line(BaseModel):
    label: str
    values: list[int]


class Chart(BaseModel):
    kept: bool  # false: this store keeps no decisions log (Kafka mode), there is nothing to draw
    ready: bool  # false: the log is still being read; ask again
    days: list[str]  # YYYY-MM-DD, ascending
    x: list[int]  # the days as Unix times (00:00 UTC), for the chart
    series: list[Line]


@router.get("/dashboard/live", response_model=Position, summary="Dashboard: how far the read models are")
def live(board: Board) -> JSON:
    return JSON({"position": board.queries.position()})


@router.get(
    "/tenants/{tenant}/dashboard/series",
    response_model=Chart,
    summary="Dashboard: a chart's series per day, from the decisions log",
    responses={400: {"description": "Neither or both of product and group."}, 404: {"description": "No tenant."}},
)
def series(
    board: Board,
    tenant: str,
    product: Annotated[str | None, Query(max_length=100, description="skuId: seats consumed and prepaid")] = None,
    group: Annotated[
        str | None, Query(max_length=200, description="group id, or * for any source: users in error")
    ] = None,
) -> JSON:
    if board.store.reads.tenant(tenant) is None:
        raise not_found(tenant)
    if (product is None) == (group is None):
        raise bad_request("Ask for one chart: product=SKU_ID or group=GROUP_ID (* for the tenant's users in error).")
    history = board.current_history()
    if history is None:
        return JSON({"kept": True, "ready": False, "days": [], "x": [], "series": []})
    if product is not None:
        found = history.product_series(tenant, product)
        lines = [("Seats consumed", 0), ("Seats prepaid", 1)]
    else:
        found = history.errors_series(tenant, TENANT_WIDE if group == "*" else group)
        lines = [("Users in error", 0)]
    return JSON({"kept": history.kept(), "ready": True, **_chart(found, lines, history.last_day(tenant))})


def _chart(found: DaySeries, lines: list[tuple[str, int]], today: str | None) -> dict[str, Any]:
    """The series as chart lines; the last value is carried to the log's last day, so a line reaches the present."""
    days, values = list(found.days), list(found.values)
    if days and today and today > days[-1]:
        days.append(today)
        values.append(values[-1])
    return {
        "days": days,
        "x": [_unix(day) for day in days],
        "series": [{"label": label, "values": [value[at] for value in values]} for label, at in lines],
    }


def _unix(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())


@router.get(
    "/dashboard/static/{name}",
    summary="Dashboard: its script, styles and charting library",
    response_class=Response,
    responses={
        200: {"content": {"text/javascript": {}, "text/css": {}, "text/plain": {}}, "description": "The file."},
        404: {"description": "Not one of the dashboard's files."},
    },
)
def static_file(name: str) -> Response:
    media_type = STATIC.get(name)
    if media_type is None:
        raise GraphError(404, "NotFound", f"There is no dashboard file {name!r}.")
    body = (_static / name).read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})
