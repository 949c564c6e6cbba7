"""What every rule judges: a candidate grant of a licence to a user, and the failure a rule finds in it."""

from __future__ import annotations

from typing import Any, NamedTuple

from processor.core.state import User

Failure = tuple[str, dict[str, Any]]  # (error code, detail)


class Grant(NamedTuple):
    """A licence about to reach a user from one source, with what the rules judge it against."""

    user: User
    sku_id: str
    plans: int  # the plans it would enable (a widening: only those it would newly enable)
    location: str | None  # the usage location it is judged in
    location_source: str  # where that location comes from: "user" or "tenant" (SPEC §2.9)
    beside: int = 0  # plans it must not clash with: the user's other SKUs and the earlier SKUs of its bundle
    prerequisites: int = 0  # plans that may satisfy its plans' prerequisites
    adding: tuple[str, ...] = ()  # the SKUs being added with it (a seat failure names them)
