"""`licensing snapshot`: a snapshot folder written from any Graph v1.0 endpoint with msgraph-sdk.

The SDK builds each request (its URL template, $select and $top, the bearer token, its retry handler for throttling)
and the pages are kept as Graph sent them: the raw `value` of every page, following `@odata.nextLink`, so that the
snapshot holds exactly what Graph said and nothing the SDK's models would drop or reformat. Against Microsoft Graph a
token with User.Read.All, Group.Read.All and Organization.Read.All suffices; `licensing serve` needs none.

The files are written to a sibling folder and moved into place at the end: a failed run leaves no half snapshot.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    AnonymousAuthenticationProvider,
    AuthenticationProvider,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.request_information import RequestInformation
from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.organization.organization_request_builder import OrganizationRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient

from processor.graphsync.snapshot import GROUP_FIELDS, GROUPS, MANIFEST, MEMBERS, ORGANIZATION, SKUS, USER_FIELDS, USERS

GRAPH = "https://graph.microsoft.com/v1.0"
PAGE = 999  # the largest page Graph serves for users, groups and members
ERRORS: dict[str, Any] = {"XXX": ODataError}  # every failed status is parsed as Graph's error body
SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")  # a group id that is also a file name
Progress = Callable[[str, int, int | None], None]  # (what, items so far, total or None)


class GraphUnavailable(RuntimeError):
    """Graph could not be reached or refused a request; the message is one line."""


def write_snapshot(
    base_url: str, out: str | Path, token: str | None = None, progress: Progress | None = None
) -> dict[str, int]:
    """Write the snapshot folder `out` (which must not exist yet, or be empty); returns the items per file."""
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise GraphUnavailable(f"{target} exists and is not an empty folder")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / MEMBERS).mkdir(parents=True)
    try:
        counts = asyncio.run(_download(base_url.rstrip("/"), partial, token, progress or (lambda *_: None)))
        if target.exists():
            target.rmdir()
        partial.rename(target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return counts


async def _download(base_url: str, folder: Path, token: str | None, progress: Progress) -> dict[str, int]:
    adapter = GraphRequestAdapter(_authentication(token))
    adapter.base_url = base_url
    client = GraphServiceClient(request_adapter=adapter)
    taken_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    counts: dict[str, int] = {}

    async def save(name: str, info: RequestInformation, builder: Any) -> list[dict[str, Any]]:
        items = await _all_pages(adapter, info, builder, lambda n: progress(name, n, None))
        (folder / name).write_text(json.dumps({"value": items}, ensure_ascii=False), encoding="utf-8")
        counts[name] = len(items)
        return items

    organization = OrganizationRequestBuilder.OrganizationRequestBuilderGetQueryParameters(
        select=["id", "displayName", "countryLetterCode"]
    )
    await save(ORGANIZATION, _get(client.organization, organization), client.organization)
    await save(SKUS, client.subscribed_skus.to_get_request_information(), client.subscribed_skus)
    users = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=list(USER_FIELDS), top=PAGE)
    await save(USERS, _get(client.users, users), client.users)
    groups = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(select=list(GROUP_FIELDS), top=PAGE)
    listed = await save(GROUPS, _get(client.groups, groups), client.groups)
    members = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(select=["id"], top=PAGE)
    for done, group in enumerate(listed, 1):
        group_id = str(group.get("id", ""))
        if not SAFE_ID.fullmatch(group_id):
            raise GraphUnavailable(f"group id {group_id!r} cannot name a file of the snapshot")
        builder = client.groups.by_group_id(group_id).members
        found = await _all_pages(adapter, _get(builder, members), builder, lambda _: None)
        (folder / MEMBERS / f"{group_id}.json").write_text(json.dumps({"value": found}), encoding="utf-8")
        progress(MEMBERS, done, len(listed))
    (folder / MANIFEST).write_text(json.dumps({"takenAt": taken_at}), encoding="utf-8")
    return counts


def _get(builder: Any, parameters: Any) -> RequestInformation:
    info: RequestInformation = builder.to_get_request_information(RequestConfiguration(query_parameters=parameters))
    return info


async def _all_pages(
    adapter: GraphRequestAdapter, info: RequestInformation, builder: Any, progress: Callable[[int], None]
) -> list[dict[str, Any]]:
    """The `value` items of every page, following @odata.nextLink (it carries the query: it is requested as is)."""
    items: list[dict[str, Any]] = []
    while True:
        page = await _page(adapter, info)
        items += page.get("value") or []
        progress(len(items))
        next_link = page.get("@odata.nextLink")
        if not next_link:
            return items
        info = builder.with_url(next_link).to_get_request_information()


async def _page(adapter: GraphRequestAdapter, info: RequestInformation) -> dict[str, Any]:
    adapter.set_base_url_for_request_information(info)  # what the adapter does before sending: the full URL
    where = f"GET {info.url}"
    try:
        raw = await adapter.send_primitive_async(info, "bytes", ERRORS)
    except ODataError as exc:
        detail = exc.error.message if exc.error and exc.error.message else "no message"
        code = f" {exc.error.code}" if exc.error and exc.error.code else ""
        raise GraphUnavailable(f"{where}: Graph answered {exc.response_status_code}{code}: {detail}") from None
    except APIError as exc:
        raise GraphUnavailable(f"{where}: Graph answered {exc.response_status_code}: {exc.message}") from None
    except httpx.HTTPError as exc:
        raise GraphUnavailable(f"{where}: {exc.__class__.__name__}: {exc}") from None
    try:
        page = json.loads(raw or b"{}")
    except ValueError:
        raise GraphUnavailable(f"{where}: the answer is not JSON") from None
    if not isinstance(page, dict):
        raise GraphUnavailable(f"{where}: the answer is not a Graph response object")
    return page


def _authentication(token: str | None) -> AuthenticationProvider:
    if token is None:
        return AnonymousAuthenticationProvider()
    return BaseBearerTokenAuthenticationProvider(_GivenToken(token))


class _GivenToken(AccessTokenProvider):
    """The token the user obtained (e.g. `az account get-access-token --resource https://graph.microsoft.com`)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def get_authorization_token(self, uri: str, additional_authentication_context: dict[str, Any] = {}) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([])
