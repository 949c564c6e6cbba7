"""Graph's users: list and get with $select/$filter/$top/$count, licenseDetails, assignLicense, and reprocess.

`POST /users/licensing.reprocessUsersInError` is this server's extension (Graph has no bulk reprocess): it asks a
reprocess of every user in error, of the tenant or of one SKU.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from processor.api.commands import command, event_id_for, new_event_id, submit
from processor.api.graph.actions import submit_or_refuse
from processor.api.graph.bodies import AssignLicense, ReprocessInError
from processor.api.graph.errors import GraphError, bad_request, not_found
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
    AcceptedRequests,
    LicenseDetailsPage,
    UserEntity,
    UserPage,
)
from processor.api.graph.shapes import USER_DEFAULT, USER_PROPERTIES, license_details, users_as_graph
from processor.api.keyset import cut_page
from processor.api.reads import UserFilter, UserRow
from processor.api.services import JSON, Store
from processor.catalog_file import shipped_catalog

router = APIRouter(tags=["Microsoft Graph: users"], responses=ERRORS)

_HOLDING_SKU = r"assignedLicenses/any\(\s*(\w+)\s*:\s*\1/skuId\s+eq\s+'?([0-9a-fA-F-]{36})'?\s*\)"
_LICENCE_COUNT = r"assignedLicenses/\$count\s+(eq|ne)\s+0"


def user_filter(request: Request, text: str | None, count: bool) -> UserFilter:
    """The users a $filter keeps: holding a SKU, holding none (or some) licence, display name prefix."""
    if text is None:
        return UserFilter()
    holding_sku, holds_any, name_prefix = None, None, None
    for clause in split_and(text):
        if found := match_clause(_HOLDING_SKU, clause):
            holding_sku = found[2].lower()
        elif found := match_clause(_LICENCE_COUNT, clause):
            require_eventual(request)
            if not count:
                raise GraphError(400, "Request_UnsupportedQuery", "Unsupported Query.", {"hint": "add $count=true"})
            holds_any = found[1].lower() == "ne"
        elif found := match_clause(STARTS_WITH_NAME, clause):
            name_prefix = string_value(found[1])
        else:
            raise invalid_filter(clause)
    return UserFilter(holding_sku, holds_any, name_prefix)


def active_user(store: Store, tenant: str, user_id: str) -> UserRow:
    user = store.reads.user(tenant, user_id)
    if user is None or user.lifecycle != "active":
        raise not_found(user_id)
    return user


@router.get("/users", response_model=None, responses={200: {"model": UserPage}})
def list_users(
    request: Request, tenant: KnownTenant, store: Store, page: Page, select: Select = None, filter: Filter = None
) -> JSON:
    """Users by id, a page at a time; `$filter` on `assignedLicenses/any(x:x/skuId eq …)`,
    `assignedLicenses/$count eq 0` (advanced query) and `startswith(displayName,'…')`."""
    names = selected(select, "user", USER_PROPERTIES, USER_DEFAULT)
    which = user_filter(request, filter, page.count)
    reads, tenant_id = store.reads, tenant.tenant_id
    with reads.snapshot():
        users = reads.users(tenant_id, after_id(page.after), page.top + 1, which)
        users, next_after = cut_page(users, page.top, lambda user: user.user_id)
        value = users_as_graph(reads, tenant_id, users, names)
        total = reads.count_users(tenant_id, which) if page.count else None
    context = context_of(request, tenant_id, "users", select, names)
    return JSON(page_body(context, value, total, next_link(request, next_after)))


@router.get("/users/$count", response_model=None, responses=COUNTED)
def count_users(request: Request, tenant: KnownTenant, store: Store, filter: Filter = None) -> PlainTextResponse:
    """The number of users (that the filter keeps); an advanced query, as in Graph."""
    require_eventual(request)
    return PlainTextResponse(str(store.reads.count_users(tenant.tenant_id, user_filter(request, filter, True))))


@router.get("/users/{user_id}", response_model=None, responses={200: {"model": UserEntity}})
def get_user(request: Request, tenant: KnownTenant, store: Store, user_id: str, select: Select = None) -> JSON:
    names = selected(select, "user", USER_PROPERTIES, USER_DEFAULT)
    reads, tenant_id = store.reads, tenant.tenant_id
    with reads.snapshot():
        (item,) = users_as_graph(reads, tenant_id, [active_user(store, tenant_id, user_id)], names)
    return JSON({"@odata.context": context_of(request, tenant_id, "users/$entity", select, names), **item})


@router.get("/users/{user_id}/licenseDetails", response_model=None, responses={200: {"model": LicenseDetailsPage}})
def list_license_details(request: Request, tenant: KnownTenant, store: Store, user_id: str) -> JSON:
    """Per product the user holds, each service plan and whether it is provisioned or disabled."""
    reads, tenant_id = store.reads, tenant.tenant_id
    with reads.snapshot():
        active_user(store, tenant_id, user_id)
        licenses = reads.licenses(tenant_id, [user_id])[user_id]
    context = context_of(request, tenant_id, f"users('{user_id}')/licenseDetails", None, ())
    return JSON(page_body(context, license_details(licenses), None, None))


def _user_answer(request: Request, store: Store, tenant: str, user_id: str, decided: bool) -> Response:
    if not decided:
        return Response(status_code=202)
    (item,) = users_as_graph(store.reads, tenant, [active_user(store, tenant, user_id)], USER_DEFAULT)
    return JSON({"@odata.context": context_of(request, tenant, "users/$entity", None, ()), **item})


@router.post(
    "/users/{user_id}/assignLicense",
    response_model=None,
    responses={200: {"model": UserEntity}, 202: {"description": "Published; decided by the Kafka workers."}},
)
def assign_user_license(
    request: Request, tenant: KnownTenant, store: Store, user_id: str, body: AssignLicense
) -> Response:
    """Add and remove the user's direct licences, accepted or refused as a whole (400 with Graph's message)."""
    tenant_id = tenant.tenant_id
    active_user(store, tenant_id, user_id)
    data = {"userId": user_id, **body.data()}
    outcome = submit_or_refuse(request, store, tenant_id, "UserLicensesChanged", data)
    return _user_answer(request, store, tenant_id, user_id, outcome.decided)


@router.post(
    "/users/{user_id}/reprocessLicenseAssignment",
    response_model=None,
    responses={200: {"model": UserEntity}, 202: {"description": "Published; decided by the Kafka workers."}},
)
def reprocess_user(request: Request, tenant: KnownTenant, store: Store, user_id: str) -> Response:
    """Evaluate the user's group licences again (after seats were bought, a location or an address fixed)."""
    tenant_id = tenant.tenant_id
    active_user(store, tenant_id, user_id)
    data = {"userId": user_id}
    (outcome,) = submit(store, [command(tenant_id, "LicenseReprocessRequested", data, event_id_for(request))])
    return _user_answer(request, store, tenant_id, user_id, outcome.decided)


@router.post(
    "/users/licensing.reprocessUsersInError",
    tags=EXTENSIONS,
    response_model=None,
    status_code=202,
    responses={202: {"model": AcceptedRequests}},
)
def reprocess_users_in_error(tenant: KnownTenant, store: Store, body: ReprocessInError | None = None) -> JSON:
    """Extension: reprocess every user with a licence entry in error, of the tenant or of one SKU (`skuId`)."""
    tenant_id = tenant.tenant_id
    sku_id = None
    if body is not None and body.skuId is not None:
        sku = shipped_catalog().resolve_sku(body.skuId)
        if sku is None:
            raise bad_request(f"License {body.skuId} does not correspond to a valid company License.")
        sku_id = sku.sku_id
    users = store.reads.users_in_error(tenant_id, sku_id)
    commands = [command(tenant_id, "LicenseReprocessRequested", {"userId": u}, new_event_id()) for u in users]
    outcomes = submit(store, commands) if commands else []
    return JSON({"requested": len(commands), "decided": all(o.decided for o in outcomes)}, status_code=202)
