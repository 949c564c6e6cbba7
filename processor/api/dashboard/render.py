"""Server-rendered HTML: the Jinja2 templates of the package, and pages for what cannot be shown.

A dashboard route returns a page or, for what it cannot show (an unknown tenant, group or user; a malformed page
key), a small page saying so in one line with its status code; it never raises out to the JSON error handlers,
which answer Graph's clients.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any, ParamSpec

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

P = ParamSpec("P")
_templates = resources.files("processor.api.dashboard") / "templates"
environment = Environment(
    loader=FileSystemLoader(str(_templates)),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,  # a misspelt name in a template fails its test instead of rendering blank
    trim_blocks=True,
    lstrip_blocks=True,
)


class CannotShow(Exception):
    """What a page cannot show: its status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = environment.get_template(template).render(request=request, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def shows_problems(route: Callable[P, HTMLResponse]) -> Callable[P, HTMLResponse]:
    """The route, answering CannotShow with a page that says why (its `request` parameter is needed)."""

    @functools.wraps(route)
    def answer(*args: P.args, **kwargs: P.kwargs) -> HTMLResponse:
        try:
            return route(*args, **kwargs)
        except CannotShow as problem:
            request = kwargs["request"]
            assert isinstance(request, Request)
            return page(request, "problem.html", problem.status, message=problem.message, tenant=None)

    return answer


def page_key(value: str | None, name: str) -> int | None:
    """A numeric page key of the query string (None: the first page); anything else is a 400."""
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise CannotShow(400, f"'{name}' must be a whole number, not {value[:40]!r}.")
    return int(value)


def when(time: str | None) -> str:
    """An RFC 3339 time as an admin reads it: 2026-01-05 10:00 UTC."""
    if not time:
        return ""
    try:
        moment = datetime.fromisoformat(time.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return time
    return moment.strftime("%Y-%m-%d %H:%M UTC")


environment.filters["when"] = when
environment.filters["thousands"] = lambda number: f"{number:,}"
