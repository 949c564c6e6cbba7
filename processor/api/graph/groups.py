"""Graph's groups: list (`hasMembersWithLicenseErrors eq true`), get, members, membersWithLicenseErrors, assignLicense.

`POST /groups/{id}/licensing.reprocessLicenseAssignment` is this server's extension: the portal's group Reprocess
button, which Graph has no operation for.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from processor.api.commands import command, event_id_for, submit
from processor.api.desk import StateUnavailable
from processor.api.graph.actions import submit_or_refuse
from processor.api.graph.bodies import AssignLicense
from processor.api.graph.errors import GraphError, not_found
from processor.api.graph.odata import (
    STARTS_WITH_NAME,
    Filter,
    KnownTenant,
    Page,
    Select,
    after_id,
    context_of,
    invalid_filter,
    match_clause,
    next_link,
    page_body,
    require_eventual,
    selected,
    split_and,
    string_value,
)
from processor.api.graph.schemas import (
    COUNTED,
    ERRORS,
    EXTENSIONS,
    DirectoryObjectPage,
    GroupEntity,
    GroupPage,
    ODataError,
    UserPage,
)
from processor.api.graph.shapes import (
    GROUP_DEFAULT,
    GROUP_PROPERTIES,
    USER_DEFAULT,
    USER_PROPERTIES,
    group_as_graph,
    users_as_graph,
)
from processor.api.keyset import cut_page
from processor.api.reads import GroupRow, UserRow
from processor.api.services import JSON, Store
from processor.core.state import TenantState

router = APIRouter(tags=["Microsoft Graph: groups"], responses=ERRORS)
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": GroupEntity, "description": "Validated and logged; members are processed."}
}


def group_filter(text: str | None) -> tuple[bool, str | None]:
    """(only groups with members in error, display name prefix) of a $filter."""
    if text is None:
        return False, None
    with_errors, name_prefix = False, None
    for clause in split_and(text):
        if match_clause(r"hasMembersWithLicenseErrors\s+eq\s+true", clause):
            with_errors = True
        elif found := match_clause(STARTS_WITH_NAME, clause):
            name_prefix = string_value(found[1])
        else:
            raise invalid_filter(clause)
    return with_errors, name_prefix


def known_group(store: Store, tenant: str, group_id: str) -> GroupRow:
    group = store.reads.group(tenant, group_id)
    if group is None:
        raise not_found(group_id)
    return group


@router.get("/groups", response_model=None, responses={200: {"model": GroupPage}})
def list_groups(
    request: Request, tenant: KnownTenant, store: Store, page: Page, select: Select = None, filter: Filter = None
) -> JSON:
    """Groups by id; `$filter=hasMembersWithLicenseErrors eq true` lists those with members in licence error."""
    names = selected(select, "group", GROUP_PROPERTIES, GROUP_DEFAULT)
    with_errors, name_prefix = group_filter(filter)
    reads, tenant_id = store.reads, tenant.tenant_id
    with reads.snapshot():
        groups = reads.groups(tenant_id, after_id(page.after), page.top + 1, with_errors, name_prefix)
        total = reads.count_groups(tenant_id, with_errors, name_prefix) if page.count else None
    groups, next_after = cut_page(groups, page.top, lambda group: group.group_id)
    value = [group_as_graph(group, names) for group in groups]
    context = context_of(request, tenant_id, "groups", select, names)
    return JSON(page_body(context, value, total, next_link(request, next_after)))


@router.get("/groups/$count", response_model=None, responses=COUNTED)
def count_groups(request: Request, tenant: KnownTenant, store: Store, filter: Filter = None) -> PlainTextResponse:
    """The number of groups (that the filter keeps); an advanced query, as in Graph."""
    require_eventual(request)
    with_errors, name_prefix = group_filter(filter)
    return PlainTextResponse(str(store.reads.count_groups(tenant.tenant_id, with_errors, name_prefix)))


@router.get("/groups/{group_id}", response_model=None, responses={200: {"model": GroupEntity}})
def get_group(request: Request, tenant: KnownTenant, store: Store, group_id: str, select: Select = None) -> JSON:
    names = selected(select, "group", GROUP_PROPERTIES, GROUP_DEFAULT)
    group = known_group(store, tenant.tenant_id, group_id)
    context = context_of(request, tenant.tenant_id, "groups/$entity", select, names)
    return JSON({"@odata.context": context, **group_as_graph(group, names)})


@router.get("/groups/{group_id}/membersWithLicenseErrors", response_model=None, responses={200: {"model": UserPage}})
def list_members_with_license_errors(
    request: Request, tenant: KnownTenant, store: Store, group_id: str, page: Page, select: Select = None
) -> JSON:
    """Users with a licence from this group in error, former members whose removal is blocked included."""
    names = selected(select, "user", USER_PROPERTIES, USER_DEFAULT)
    reads, tenant_id = store.reads, tenant.tenant_id
    with reads.snapshot():
        known_group(store, tenant_id, group_id)
        ids = reads.members_in_error(tenant_id, group_id, after_id(page.after), page.top + 1)
        ids, next_after = cut_page(ids, page.top, lambda user_id: user_id)
        value = _users_in_order(store, tenant_id, ids, names)
        total = reads.count_members_in_error(tenant_id, group_id) if page.count else None
    context = context_of(request, tenant_id, "directoryObjects", select, names)
    return JSON(page_body(context, value, total, next_link(request, next_after)))


def _users_in_order(store: Store, tenant: str, ids: list[str], names: tuple[str, ...]) -> list[dict[str, object]]:
    """The users of `ids` (typed as Graph types directory objects), in that order; one without a row keeps its id."""
    rows = store.reads.users_by_id(tenant, ids)
    users = [rows.get(user_id) or UserRow(user_id, None, None, None, [], True, "unknown") for user_id in ids]
    return list(users_as_graph(store.reads, tenant, users, names, typed=True))


@router.get(
    "/groups/{group_id}/members",
    response_model=None,
    responses={
        200: {"model": DirectoryObjectPage},
        501: {"model": ODataError, "description": "Kafka mode: membership lives in the workers."},
    },
)
def list_members(
    request: Request, tenant: KnownTenant, store: Store, group_id: str, page: Page, select: Select = None
) -> JSON:
    """The group's direct members: users and nested groups, by id."""
    names = selected(select, "user", USER_PROPERTIES, USER_DEFAULT)
    tenant_id = tenant.tenant_id
    known_group(store, tenant_id, group_id)
    after = after_id(page.after)

    def members(state: TenantState) -> tuple[list[tuple[str, bool]], int]:
        group = state.groups.get(group_id)
        if group is None:
            return [], 0
        everyone = sorted([(user_id, True) for user_id in group.members] + [(g, False) for g in group.nested])
        start = 0 if after is None else _first_after(everyone, after)
        return everyone[start : start + page.top + 1], len(everyone)

    try:
        listed, total = store.desk.with_state(tenant_id, members)
    except StateUnavailable as exc:
        raise GraphError(501, "NotImplemented", str(exc)) from None
    listed, next_after = cut_page(listed, page.top, lambda member: member[0])
    reads = store.reads
    with reads.snapshot():
        users = reads.users_by_id(tenant_id, [member for member, is_user in listed if is_user])
        groups = reads.groups_by_id(tenant_id, [member for member, is_user in listed if not is_user])
        value = []
        for member, is_user in listed:
            if is_user and member in users:
                value += users_as_graph(reads, tenant_id, [users[member]], names, typed=True)
            elif not is_user and member in groups:
                value.append(group_as_graph(groups[member], GROUP_DEFAULT, typed=True))
    context = context_of(request, tenant_id, "directoryObjects", None, ())
    return JSON(page_body(context, value, total if page.count else None, next_link(request, next_after)))


def _first_after(members: list[tuple[str, bool]], after: str) -> int:
    return bisect_right(members, (after, True))


@router.post("/groups/{group_id}/assignLicense", response_model=None, status_code=202, responses=ACCEPTED)
def assign_group_license(
    request: Request, tenant: KnownTenant, store: Store, group_id: str, body: AssignLicense
) -> Response:
    """Change the group's licences: validated at once (400 if refused), then applied to every member (202)."""
    tenant_id = tenant.tenant_id
    known_group(store, tenant_id, group_id)
    data = {"groupId": group_id, **body.data()}
    submit_or_refuse(request, store, tenant_id, "GroupLicensesChanged", data)
    return _group_answer(request, store, tenant_id, group_id)


@router.post(
    "/groups/{group_id}/licensing.reprocessLicenseAssignment",
    tags=EXTENSIONS,
    response_model=None,
    status_code=202,
    responses=ACCEPTED,
)
def reprocess_group(request: Request, tenant: KnownTenant, store: Store, group_id: str) -> Response:
    """Extension: the portal's group Reprocess, every member (no 20-user limit) evaluated again."""
    tenant_id = tenant.tenant_id
    known_group(store, tenant_id, group_id)
    submit(store, [command(tenant_id, "LicenseReprocessRequested", {"groupId": group_id}, event_id_for(request))])
    return _group_answer(request, store, tenant_id, group_id)


def _group_answer(request: Request, store: Store, tenant: str, group_id: str) -> JSON:
    group = known_group(store, tenant, group_id)
    context = context_of(request, tenant, "groups/$entity", None, ())
    return JSON({"@odata.context": context, **group_as_graph(group, GROUP_DEFAULT)}, status_code=202)
