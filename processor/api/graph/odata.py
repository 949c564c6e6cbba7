"""OData conventions of Graph shared by every route: the tenant of the path, query options, `@odata.context`, and
paging by `$skiptoken` with an absolute `@odata.nextLink`.

Graph's own limits and messages are kept: `$top` is 1-999 (default 100), `$count=true` and the `$count` filters are
advanced queries that need `ConsistencyLevel: eventual`, an unknown `$select` property or filter is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request

from processor.api.graph.errors import GraphError, bad_request, not_found
from processor.api.reads import Tenant
from processor.api.services import Store

DEFAULT_TOP = 100
MAX_TOP = 999
UNSUPPORTED_QUERY = "Request_UnsupportedQuery"


def known_tenant(tenant: str, store: Store) -> Tenant:
    row = store.reads.tenant(tenant)
    if row is None:
        raise not_found(tenant)
    return row


KnownTenant = Annotated[Tenant, Depends(known_tenant)]

# The query options as FastAPI parameters: documented in the OpenAPI document, validated here (Graph's messages).
Select = Annotated[str | None, Query(alias="$select", description="Comma-separated properties to return.")]
Filter = Annotated[str | None, Query(alias="$filter", description="An OData filter this resource supports.")]
Top = Annotated[str | None, Query(alias="$top", description="Page size, 1-999 (default 100).")]
Count = Annotated[
    str | None, Query(alias="$count", description="true: include @odata.count (needs ConsistencyLevel: eventual).")
]
SkipToken = Annotated[str | None, Query(alias="$skiptoken", description="Where the next page starts (nextLink).")]


@dataclass(frozen=True, slots=True)
class Paging:
    top: int
    after: Any  # the key of the last item of the previous page, or None for the first page
    count: bool  # whether to include @odata.count


def eventual(request: Request) -> bool:
    return request.headers.get("consistencylevel", "").lower() == "eventual"


def paging(request: Request, top: Top = None, count: Count = None, skiptoken: SkipToken = None) -> Paging:
    return Paging(parse_top(top), parse_skiptoken(skiptoken), parse_count(request, count))


# A list's $top, $count and $skiptoken, read and checked before the route runs.
Page = Annotated[Paging, Depends(paging)]


def parse_top(top: str | None) -> int:
    if top is None:
        return DEFAULT_TOP
    if not re.fullmatch(r"\d{1,9}", top.strip()) or not 1 <= int(top) <= MAX_TOP:
        raise bad_request(f"Invalid page size specified: '{top}'. Must be between 1 and {MAX_TOP} inclusive.")
    return int(top)


def parse_count(request: Request, count: str | None) -> bool:
    if count is None or count.lower() == "false":
        return False
    if count.lower() != "true":
        raise bad_request(f"Invalid value '{count}' for query option '$count': expected true or false.")
    if not eventual(request):
        raise bad_request("$count is not currently supported.", hint="send the header ConsistencyLevel: eventual")
    return True


def require_eventual(request: Request) -> None:
    """Advanced queries (a `$count` filter) need `ConsistencyLevel: eventual`, as in Graph."""
    if not eventual(request):
        raise GraphError(
            400,
            UNSUPPORTED_QUERY,
            "Unsupported Query.",
            {"hint": "this filter is an advanced query: send ConsistencyLevel: eventual and $count=true"},
        )


def parse_skiptoken(token: str | None) -> Any:
    if token is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeError):
        raise bad_request(f"'$skiptoken' is invalid: '{token}'.") from None


def after_id(after: Any) -> str | None:
    """The id a page starts after, of a list paged by id (a token of another list is refused)."""
    if after is not None and not isinstance(after, str):
        raise bad_request("'$skiptoken' is invalid.")
    return after


def skiptoken(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def next_link(request: Request, key: Any) -> str | None:
    """The absolute URL of the page after the one ending at `key`: the same query, a new $skiptoken (None: no key,
    no next page)."""
    if key is None:
        return None
    options = [(name, value) for name, value in request.query_params.multi_items() if name.lower() != "$skiptoken"]
    options.append(("$skiptoken", skiptoken(key)))
    query = "&".join(f"{quote(name, safe='$')}={quote(value, safe=',()/:$')}" for name, value in options)
    return f"{request.url.replace(query='')}?{query}"


def context_url(request: Request, tenant: str, what: str) -> str:
    """`@odata.context`: where the answer's metadata would be, and what it is (`users`, `users/$entity`, …)."""
    return f"{request.base_url}tenants/{tenant}/v1.0/$metadata#{what}"


def selected(select: str | None, kind: str, known: Sequence[str], default: Sequence[str]) -> tuple[str, ...]:
    """The properties `$select` names (case as Graph spells them), or the resource's default ones."""
    if select is None:
        return tuple(default)
    canonical = {name.lower(): name for name in known}
    names: list[str] = []
    for given in select.split(","):
        name = canonical.get(given.strip().lower())
        if name is None:
            raise bad_request(f"Could not find a property named '{given.strip()}' on type 'microsoft.graph.{kind}'.")
        if name not in names:
            names.append(name)
    if "id" not in names:
        names.insert(0, "id")  # Graph always returns the id
    return tuple(names)


def context_of(request: Request, tenant: str, what: str, select: str | None, names: Sequence[str]) -> str:
    """`@odata.context` of a list or entity, with the selected properties as Graph writes them."""
    if select is None:
        return context_url(request, tenant, what)
    entity = what.endswith("/$entity")
    base = what.removesuffix("/$entity")
    return context_url(request, tenant, f"{base}({','.join(names)}){'/$entity' if entity else ''}")


def page_body(context: str, value: list[dict[str, Any]], count: int | None, link: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"@odata.context": context}
    if count is not None:
        body["@odata.count"] = count
    if link is not None:
        body["@odata.nextLink"] = link
    body["value"] = value
    return body


# ---- $filter -----------------------------------------------------------------------------------------------

STRING = r"'((?:[^']|'')*)'"


def split_and(expression: str) -> list[str]:
    """The clauses of `a and b and c` (an `and` inside a quoted string does not split)."""
    clauses, current, quoted = [], "", False
    for token in re.split(r"('|\s+and\s+)", expression.strip(), flags=re.IGNORECASE):
        if token == "'":
            quoted = not quoted
            current += token
        elif not quoted and re.fullmatch(r"\s+and\s+", token, flags=re.IGNORECASE):
            clauses.append(current.strip())
            current = ""
        else:
            current += token
    clauses.append(current.strip())
    return clauses


def match_clause(pattern: str, clause: str) -> re.Match[str] | None:
    return re.fullmatch(pattern, clause, flags=re.IGNORECASE)


def string_value(quoted: str) -> str:
    return quoted.replace("''", "'")


def invalid_filter(clause: str) -> GraphError:
    return bad_request(f"Invalid filter clause: '{clause}' is not supported on this resource.")


STARTS_WITH_NAME = rf"startswith\(\s*displayName\s*,\s*{STRING}\s*\)"
