"""The dashboard's pages: tenants, a tenant's overview, groups, a group, a user, search, rejected commands, audit.

Every list is a page of at most PAGE rows with a link to the next one, so a page of a 100,000-user tenant reads what
a page of a small one does. The page itself refreshes its live parts when the log moves (static/dashboard.js).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from processor.api.dashboard.names import Names
from processor.api.dashboard.queries import ACTIVITIES
from processor.api.dashboard.render import CannotShow, page, page_key, shows_problems
from processor.api.dashboard.services import Board
from processor.api.desk import StateUnavailable
from processor.api.keyset import cut_page
from processor.api.reads import Assignment, Tenant
from processor.core.catalog import bits

PAGE = 50
ATTENTION_PAGE = 20
HISTORY_PAGE = 20
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The page."},
    400: {
        "content": {"text/html": {}, "application/json": {}},
        "description": "A malformed page key (a page) or query parameter (Graph's error object); one line says which.",
    },
    404: {"content": {"text/html": {}}, "description": "No such tenant, group or user."},
}
router = APIRouter(tags=["Dashboard"], responses=HTML)
Text = Annotated[str | None, Query(max_length=200)]


def _tenant(board: Board, tenant: str) -> Tenant:
    found = board.store.reads.tenant(tenant)
    if found is None:
        raise CannotShow(404, f"There is no tenant {tenant!r} in this store.")
    return found


@router.get("/", response_class=HTMLResponse, summary="Dashboard: the tenants of the store")
@shows_problems
def tenants_page(request: Request, board: Board, after: Text = None) -> HTMLResponse:
    rows, next_after = cut_page(board.queries.tenants(after, PAGE + 1), PAGE, lambda tenant: tenant[0])
    return page(request, "tenants.html", tenant=None, tenants=rows, next_after=next_after)


@router.get("/tenants/{tenant}/", response_class=HTMLResponse, summary="Dashboard: a tenant's overview")
@shows_problems
def overview_page(
    request: Request, board: Board, tenant: str, attention_from: Text = None, product: Text = None
) -> HTMLResponse:
    row = _tenant(board, tenant)
    reads, names = board.store.reads, Names(board.queries, tenant)
    offset = page_key(attention_from, "attention_from") or 0
    with reads.snapshot():
        products = reads.products(tenant)
        attention, attention_total = board.queries.attention(tenant, offset, ATTENTION_PAGE)
        counts = {
            "users": board.queries.count_users(tenant),
            "groups": reads.count_groups(tenant),
            "groups_in_error": attention_total,
            "rejected": board.queries.count_refusals(tenant),
        }
    names.learn_from(g.top_reason for g in attention)
    charted = product if any(p.sku_id == product for p in products) else _most_used(products)
    return page(
        request,
        "overview.html",
        tenant=row,
        names=names,
        products=products,
        charted=charted,
        attention=attention,
        attention_from=offset,
        attention_next=offset + ATTENTION_PAGE if offset + ATTENTION_PAGE < attention_total else None,
        counts=counts,
    )


def _most_used(products: list[Any]) -> str | None:
    """The product charted first: an over-assigned one, else the one with most seats consumed."""
    if not products:
        return None
    chosen = max(products, key=lambda p: (p.over_assigned, p.consumed, p.sku_part_number))
    sku_id: str = chosen.sku_id
    return sku_id


@router.get("/tenants/{tenant}/groups/", response_class=HTMLResponse, summary="Dashboard: a tenant's groups")
@shows_problems
def groups_page(
    request: Request, board: Board, tenant: str, after: Text = None, name: Text = None, errors: Text = None
) -> HTMLResponse:
    row = _tenant(board, tenant)
    reads = board.store.reads
    with_errors = errors == "1"
    with reads.snapshot():
        groups = reads.groups(tenant, after, PAGE + 1, with_errors, name or None)
        total = reads.count_groups(tenant, with_errors, name or None)
    groups, next_after = cut_page(groups, PAGE, lambda group: group.group_id)
    return page(
        request,
        "groups.html",
        tenant=row,
        names=Names(board.queries, tenant),
        groups=groups,
        total=total,
        name=name or "",
        errors=with_errors,
        next_after=next_after,
    )


@dataclass(frozen=True, slots=True)
class ErrorRow:
    user_id: str
    user_name: str
    sign_in: str
    member: bool | None  # None: membership not known here (Kafka mode)
    product: str
    part_number: str
    state: str
    error: str
    reason: str
    message: str
    fix: str
    since: str


@router.get("/tenants/{tenant}/groups/{group_id}", response_class=HTMLResponse, summary="Dashboard: a group")
@shows_problems
def group_page(request: Request, board: Board, tenant: str, group_id: str, after: Text = None) -> HTMLResponse:
    row = _tenant(board, tenant)
    reads, names = board.store.reads, Names(board.queries, tenant)
    with reads.snapshot():
        group = reads.group(tenant, group_id)
        if group is None:
            raise CannotShow(404, f"There is no group {group_id!r} in tenant {tenant!r}.")
        ids = reads.members_in_error(tenant, group_id, after, PAGE + 1)
        ids, next_after = cut_page(ids, PAGE, lambda user_id: user_id)
        entries = reads.member_errors(tenant, group_id, ids)
        in_error = reads.count_members_in_error(tenant, group_id)
        users = reads.users_by_id(tenant, ids)
    membership = _membership(board, tenant, group_id, ids)
    names.learn(user_ids=ids)
    names.learn_from(text for e in entries for text in (e.reason, e.message, e.suggested_fix))
    rows = [
        ErrorRow(
            e.user_id,
            names.of(e.user_id),
            (users[e.user_id].user_principal_name or "") if e.user_id in users else "",
            None if membership is None else e.user_id in membership.members,
            names.product(e.sku_id, e.sku_part_number),
            e.sku_part_number,
            e.state,
            e.error,
            names.text(e.reason),
            names.text(e.message),
            names.text(e.suggested_fix),
            e.since,
        )
        for e in entries
    ]
    if membership is not None:
        names.learn(user_ids=membership.blocked)
    return page(
        request,
        "group.html",
        tenant=row,
        group=group,
        names=names,
        licenses=[_licence(names, licence) for licence in group.assigned_licenses],
        rows=rows,
        in_error=in_error,
        membership=membership,
        after=after,
        next_after=next_after,
    )


@dataclass(slots=True)
class Membership:
    count: int
    members: set[str] = field(default_factory=set)  # of the users shown, those who are members
    blocked: list[str] = field(default_factory=list)  # former members still holding an entry in error (a page)
    blocked_total: int = 0


def _membership(board: Board, tenant: str, group_id: str, shown: list[str]) -> Membership | None:
    """Who of the shown users are members, and the former members whose removal is blocked, from the decided state."""

    def read(state: Any) -> Membership:
        group = state.groups.get(group_id)
        if group is None:
            return Membership(0)
        blocked = sorted(user for user in group.errors if user not in group.members)
        return Membership(len(group.members), {u for u in shown if u in group.members}, blocked[:PAGE], len(blocked))

    try:
        return board.store.desk.with_state(tenant, read)
    except StateUnavailable:
        return None


def _licence(names: Names, licence: dict[str, Any]) -> dict[str, Any]:
    return {
        "sku_id": licence["skuId"],
        "product": names.product(licence["skuId"], licence.get("skuPartNumber")),
        "part_number": licence.get("skuPartNumber") or licence["skuId"],
        "disabled": names.plans(licence.get("disabledPlans", [])),
        "enabled": _enabled_plans(names, licence["skuId"], licence.get("disabledPlans", [])),
    }


def _enabled_plans(names: Names, sku_id: str, disabled: list[str]) -> list[str]:
    sku = names.catalog.skus.get(sku_id)
    if sku is None:
        return []
    off = {plan.lower() for plan in disabled}
    plans = (names.catalog.plan_ids[bit] for bit in bits(sku.plans))
    return sorted(names.plan(plan) for plan in plans if plan not in off)


@dataclass(frozen=True, slots=True)
class Source:
    """One source of a product for a user: direct, or a group, with the plans it enables and its error."""

    label: str
    group_id: str | None
    state: str
    error: str
    enabled: list[str]
    disabled: list[str]
    reason: str
    message: str
    fix: str
    since: str


@router.get("/tenants/{tenant}/users/{user_id}", response_class=HTMLResponse, summary="Dashboard: a user")
@shows_problems
def user_page(request: Request, board: Board, tenant: str, user_id: str, before: Text = None) -> HTMLResponse:
    row = _tenant(board, tenant)
    reads, names = board.store.reads, Names(board.queries, tenant)
    history_before = page_key(before, "before")
    with reads.snapshot():
        user = reads.user(tenant, user_id)
        if user is None:
            raise CannotShow(404, f"There is no user {user_id!r} in tenant {tenant!r}.")
        assignments = reads.assignments(tenant, [user_id])[user_id]
        licenses = reads.licenses(tenant, [user_id])[user_id]
    history = board.current_history()
    events = history.user_events(tenant, user_id, history_before, HISTORY_PAGE + 1) if history else []
    events, next_before = cut_page(events, HISTORY_PAGE, lambda event: event.position)
    names.learn(group_ids=[a.assigned_by_group for a in assignments if a.assigned_by_group])
    names.learn(group_ids=[c.assigned_by_group for e in events for c in e.changes if c.assigned_by_group])
    names.learn_from(text for a in assignments for text in _detail_texts(a.error_detail))
    held = {licence["skuId"]: licence for licence in licenses.assigned_licenses}
    products: dict[str, dict[str, Any]] = {}
    for assignment in assignments:
        product = products.setdefault(
            assignment.sku_id,
            {
                "name": names.product(assignment.sku_id, assignment.sku_part_number),
                "part_number": assignment.sku_part_number,
                "held": assignment.sku_id in held,
                "effective_disabled": names.plans(held.get(assignment.sku_id, {}).get("disabledPlans", [])),
                "sources": [],
            },
        )
        product["sources"].append(_source(names, assignment))
    return page(
        request,
        "user.html",
        tenant=row,
        user=user,
        names=names,
        products=list(products.values()),
        suspended=names.plans(licenses.suspended_plans),
        history_kept=history is not None and history.kept(),
        history_loading=history is None,
        events=events,
        next_before=next_before,
    )


def _detail_texts(detail: dict[str, Any] | None) -> list[str]:
    if not detail:
        return []
    return [str(detail.get(key) or "") for key in ("reason", "message", "suggestedFix")]


def _source(names: Names, assignment: Assignment) -> Source:
    detail = assignment.error_detail or {}
    group = assignment.assigned_by_group
    return Source(
        "Direct" if group is None else f"Inherited from {names.of(group)}",
        group,
        assignment.state,
        assignment.error,
        _enabled_plans(names, assignment.sku_id, assignment.disabled_plans),
        names.plans(assignment.disabled_plans),
        names.text(detail.get("reason")),
        names.text(detail.get("message")),
        names.text(detail.get("suggestedFix")),
        assignment.last_updated,
    )


@router.get("/tenants/{tenant}/search", response_class=HTMLResponse, summary="Dashboard: users and groups by name")
@shows_problems
def search_page(request: Request, board: Board, tenant: str, q: Text = None) -> HTMLResponse:
    row = _tenant(board, tenant)
    text = (q or "").strip()
    reads = board.store.reads
    users, groups = [], []
    if text:
        with reads.snapshot():
            users = board.queries.find_users(tenant, text, PAGE)
            groups = reads.groups(tenant, None, PAGE, name_prefix=text)
            exact = reads.group(tenant, text)
            if exact is not None and all(g.group_id != exact.group_id for g in groups):
                groups.insert(0, exact)
    return page(request, "search.html", tenant=row, q=text, users=users, groups=groups, limit=PAGE)


@router.get("/tenants/{tenant}/rejected", response_class=HTMLResponse, summary="Dashboard: rejected commands")
@shows_problems
def rejected_page(request: Request, board: Board, tenant: str, before: Text = None) -> HTMLResponse:
    row = _tenant(board, tenant)
    names = Names(board.queries, tenant)
    refusals = board.queries.refusals(tenant, page_key(before, "before"), PAGE + 1)
    refusals, next_before = cut_page(refusals, PAGE, lambda refusal: refusal.row)
    targets = [r.target for r in refusals if r.target]
    names.learn(targets, targets)
    names.learn_from(r.message for r in refusals)
    return page(
        request,
        "rejected.html",
        tenant=row,
        names=names,
        refusals=refusals,
        total=board.queries.count_refusals(tenant),
        next_before=next_before,
    )


@router.get("/tenants/{tenant}/audit", response_class=HTMLResponse, summary="Dashboard: the audit log")
@shows_problems
def audit_page(request: Request, board: Board, tenant: str, before: Text = None, activity: Text = None) -> HTMLResponse:
    row = _tenant(board, tenant)
    names = Names(board.queries, tenant)
    entries = board.queries.audit(tenant, page_key(before, "before"), PAGE + 1, activity or None)
    entries, next_before = cut_page(entries, PAGE, lambda entry: entry.row)
    targets = [e.target for e in entries]
    names.learn(targets, targets)
    names.learn_from(e.result for e in entries)
    return page(
        request,
        "audit.html",
        tenant=row,
        names=names,
        entries=entries,
        activity=activity or "",
        activities=ACTIVITIES,
        next_before=next_before,
    )
