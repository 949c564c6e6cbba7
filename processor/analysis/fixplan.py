"""Fix plan: for every licence entry in error, the change that would clear it, as a readable plan and as input events
that `ingest` accepts (then `what-if` of that file shows its whole effect).

Policy. Every error gets candidate fixes of its kind, each followed by a reprocess of the users in error (faithful
mode heals nothing by itself):

* CountViolation (per product): buy the seats the waiting users lack, nothing more;
* ProhibitedInUsageLocationViolation: set the usage location to a country where the plan is offered (the tenant's
  country if it is one), or switch the plan off in the licence's source;
* UniquenessViolation: remove the shared proxy address from the user in error, or from the other holder;
* MutuallyExclusiveViolation: switch the clashing plans off in the other licence, remove that licence if it is a
  direct one, or switch them off in the failing licence's source;
* DependencyViolation: switch the prerequisite on in a direct licence that has it, give it through a direct licence
  of a product that has it (the error's own product first: its seat is already held), or remove the dependent plan's
  licence;
* Other: nothing of its own; it clears with the sibling product's fix.

Each candidate is decided on a copy of the state. It qualifies when none of its commands is rejected, the error is
gone (the entry is Active, withdrawn as intended, or fails for another reason that gets its own fix) and no entry
that was fine goes into error. Of the qualifying candidates the plan takes the one that buys the fewest seats, then
removes the fewest licences (a user stops holding a product, or keeps it with every plan off), then switches off the
fewest plans (counted per user), then changes the fewest other users, then needs the fewest commands; ties go to the
order above. The error's own product on its own user does not count: changing it is the point. Errors are taken
in that order of kinds (purchases first, as a seat often unblocks a sibling), users by name; the plan is built one
fix at a time on the state the earlier fixes leave.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from events import parse_event
from processor.analysis.commands import CommandBatch, event_lines, now
from processor.analysis.fixes import Candidate, Problem, UserEntry, candidates, user_name
from processor.analysis.lookup import copy_tenant, current_state, frozen, group_label, readable_detail, thawed
from processor.core.decide import decide_changes
from processor.core.outputs import Output
from processor.core.state import (
    ACTIVE,
    COUNT,
    DEPENDENCY,
    ERROR,
    ERROR_STATES,
    EXCLUSIVE,
    LOCATION,
    OTHER,
    UNIQUENESS,
    Entry,
    TenantState,
)
from processor.core.views import licenses_view

SOURCE = "/fix-plan"
KIND_ORDER = (COUNT, LOCATION, UNIQUENESS, EXCLUSIVE, DEPENDENCY)  # purchases first; Other clears with its sibling
POLICY = (
    "Each candidate fix is decided on a copy of the state; it qualifies if no command is rejected, the error is "
    "gone and nothing else goes into error. Of those, the fewest seats bought, then the fewest licences removed, then "
    "the fewest plans switched off, then the fewest other users changed, then the fewest commands."
)


@dataclass(frozen=True, order=True)
class Cost:
    seats_bought: int = 0
    licences_removed: int = 0
    plans_off: int = 0
    users_changed: int = 0
    commands: int = 0

    @property
    def free(self) -> bool:
        """Nothing bought, removed, switched off or changed for others."""
        return not (self.seats_bought or self.licences_removed or self.plans_off or self.users_changed)

    def as_json(self) -> dict[str, int]:
        return {
            "seatsBought": self.seats_bought,
            "licencesRemoved": self.licences_removed,
            "plansSwitchedOff": self.plans_off,
            "otherUsersChanged": self.users_changed,
            "commands": self.commands,
        }


@dataclass
class Trial:
    candidate: Candidate
    state: TenantState
    events: list[dict[str, Any]]
    cost: Cost | None = None  # None: it does not qualify
    why_not: str | None = None


@dataclass
class Plan:
    tenant_id: str
    time: str
    batch: CommandBatch
    steps: list[dict[str, Any]] = field(default_factory=list)
    unfixed: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    tried: dict[UserEntry, list[dict[str, Any]]] = field(default_factory=dict)  # candidates of errors left unfixed


def fix_plan(
    conn: sqlite3.Connection,
    tenant_id: str,
    time: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The plan for every entry in error of the tenant, as a JSON-ready document with its input events."""
    state = current_state(conn, tenant_id)
    return plan_for_state(state, time or now(), progress)


def plan_for_state(state: TenantState, time: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    initial = _errors(state)
    plan = Plan(state.tenant_id, time, CommandBatch(state.tenant_id, SOURCE, time, "fix"))
    attempted: set[Problem] = set()
    singles: set[UserEntry] = set()  # entries of a shared problem no common fix cleared: each on its own
    work = copy_tenant(state)
    while True:
        problem = next((p for p in _problems(work, singles) if p not in attempted), None)
        if problem is None:
            break
        attempted.add(problem)
        work, fixed = _fix(plan, work, problem)
        if not fixed and len(problem.entries) > 1:
            singles.update(problem.entries)
            for user_entry in problem.entries:
                plan.tried.pop(user_entry, None)
        if progress is not None:
            progress(1)
    final = _errors(work)
    for user_entry, (entry_state, error) in initial.items():
        if user_entry not in final:
            plan.fixes.append(_entry_json(state, user_entry, entry_state, error))
    for user_entry, (entry_state, error) in sorted(final.items(), key=lambda item: _entry_order(work, item[0])):
        entry = _entry(work, user_entry)
        reason, fix = readable_detail((entry.detail if entry is not None else None) or {}, lambda u: user_name(work, u))
        tried = plan.tried.get(user_entry)
        plan.unfixed.append(
            {
                **_entry_json(work, user_entry, entry_state, error),
                "reason": reason,
                "suggestedFix": fix,
                "whyNot": (
                    "no candidate fix qualified"
                    if tried
                    else "waits for the fix of its sibling product in the same group"
                    if error == OTHER
                    else "back in error after its fix"
                ),
                "tried": tried or [],
            }
        )
    seats: dict[str, int] = {}
    for step in plan.steps:
        for sku, count in step["seatsToBuy"].items():
            seats[sku] = seats.get(sku, 0) + count
    return {
        "tenant": state.tenant_id,
        "time": time,
        "policy": POLICY,
        "errorsBefore": len(initial),
        "errorsAfter": len(final),
        "seatsToBuy": [{"skuPartNumber": sku, "seats": count} for sku, count in sorted(seats.items())],
        "steps": plan.steps,
        "unfixed": plan.unfixed,
        "fixes": plan.fixes,
        "events": plan.batch.events,
    }


# ---- errors and problems --------------------------------------------------------------------------------------


def _errors(state: TenantState) -> dict[UserEntry, tuple[str, str]]:
    """Every entry in error: (userId, key) -> (state, error)."""
    return {
        (user.user_id, key): (entry.state, entry.error)
        for user in state.users.values()
        for key, entry in user.entries.items()
        if entry.state in ERROR_STATES
    }


def _problems(state: TenantState, singles: set[UserEntry]) -> Iterator[Problem]:
    """The errors still to fix, in the plan's order. Entries with the same error from the same source for the same
    reason share a problem (one fix for all of them: a tenant has many errors but few kinds), unless in `singles`."""
    catalog = state.catalog
    shared: dict[tuple[str, str, str | None, str], list[tuple[str, UserEntry]]] = {}
    for user in state.users.values():
        for key, entry in user.entries.items():
            if entry.state not in ERROR_STATES or entry.error == OTHER:
                continue
            user_entry = (user.user_id, key)
            problem_key: tuple[str, str, str | None, str]
            if entry.error == COUNT and entry.state == ERROR:
                problem_key = (COUNT, key[0], None, "")  # every user waiting for the product's seats
            else:
                reason = str((entry.detail or {}).get("reason", ""))
                problem_key = (entry.error, key[0], key[1], reason)
            if user_entry in singles:
                problem_key = (*problem_key[:3], f"{problem_key[3]}\0{user.user_id}")
            shared.setdefault(problem_key, []).append((user.display_name or user.user_id, user_entry))
    kinds = {kind: n for n, kind in enumerate(KIND_ORDER)}

    def order(item: tuple[tuple[str, str, str | None, str], list[tuple[str, UserEntry]]]) -> tuple[Any, ...]:
        (error, sku_id, group_id, _), members = item
        first = "" if error == COUNT else min(name for name, _ in members)  # purchases by product
        return kinds.get(error, len(kinds)), error, first, catalog.skus[sku_id].part_number, group_id or ""

    for (error, sku_id, _, _), members in sorted(shared.items(), key=order):
        entries = [user_entry for _, user_entry in members]
        if error == COUNT:
            waiting = list(state.count_waiters.get(sku_id, {}))  # oldest error first
            entries.sort(key=lambda e: _fifo(waiting, e))
        else:
            entries.sort(key=lambda e: _entry_order(state, e))
        yield Problem(error, sku_id, tuple(entries))


def _fifo(order: list[tuple[str, str | None]], user_entry: UserEntry) -> tuple[int, str]:
    user_id, (_, group_id) = user_entry
    try:
        return order.index((user_id, group_id)), user_id
    except ValueError:
        return len(order), user_id


# ---- one fix --------------------------------------------------------------------------------------------------


def _fix(plan: Plan, work: TenantState, problem: Problem) -> tuple[TenantState, bool]:
    """The state after the problem's best fix (see the policy), and whether one qualified."""
    data = frozen(work)
    trials: list[Trial] = []
    skipped: list[Candidate] = []
    for candidate in candidates(work, problem):
        if any(t.cost is not None and t.cost.free for t in trials):
            skipped.append(candidate)  # nothing can beat a fix that costs nothing but the commands: ties go first
            continue
        trials.append(_try(plan, work, thawed(data), problem, candidate))
    qualifying = [t for t in trials if t.cost is not None]
    if not qualifying:
        for user_entry in problem.entries:
            plan.tried[user_entry] = [{"action": t.candidate.action, "whyNot": t.why_not} for t in trials]
        return work, False
    best = min(qualifying, key=lambda t: t.cost or Cost())  # min keeps the first of equals
    plan.batch.extend(best.events)
    assert best.cost is not None
    was, now = _errors(work), _errors(best.state)
    plan.steps.append(
        {
            "problem": _problem_json(work, problem),
            "action": best.candidate.action,
            "clears": [
                _entry_json(work, e, *was[e])
                for e in sorted(was.keys() - now.keys(), key=lambda e: _entry_order(work, e))
            ],
            "cost": best.cost.as_json(),
            "seatsToBuy": _seats_bought(work, best.state),
            "events": [event["id"] for event in best.events],
            "alternatives": [
                {"action": t.candidate.action, "cost": t.cost.as_json() if t.cost else None, "whyNot": t.why_not}
                for t in trials
                if t is not best
            ]
            + [
                {"action": c.action, "cost": None, "whyNot": "not tried: a fix costing nothing came first"}
                for c in skipped
            ],
        }
    )
    return best.state, True


def _try(plan: Plan, work: TenantState, copy: TenantState, problem: Problem, candidate: Candidate) -> Trial:
    """Decide the candidate, then a reprocess of the problem's users, on `copy` (of `work`); judge the result."""
    commands = candidate.commands + [("LicenseReprocessRequested", {"userId": u}) for u in problem.users]
    events = plan.batch.preview(commands)
    trial = Trial(candidate, copy, events)
    outputs: list[Output] = []
    ids = set()
    for _, line in event_lines(events, "fix-plan"):
        event = parse_event(line)
        ids.add(event.id)
        outputs += decide_changes(trial.state, event).outputs
    for kind, data in outputs:
        if kind == "CommandRejected" and data["eventId"] in ids:
            trial.why_not = f"rejected: {data['error']}: {data['message']}"
            return trial
    for user_entry in problem.entries:
        entry = _entry(trial.state, user_entry)
        if entry is not None and entry.state != ACTIVE and entry.error == problem.error:
            trial.why_not = f"the {problem.error} stays"
            return trial
    for kind, data in outputs:
        if (
            kind == "LicenseAssignmentStateChanged"
            and data["state"] in ERROR_STATES
            and data["previousState"] not in ERROR_STATES
        ):
            part, user = data["skuPartNumber"], user_name(trial.state, data["userId"])
            trial.why_not = f"it would put {part} of {user} into {data['state']} {data['error']}"
            return trial
    trial.cost = _cost(work, trial.state, problem, outputs, len(candidate.commands))
    return trial


def _entry_order(state: TenantState, user_entry: UserEntry) -> tuple[str, str, bool, str]:
    user_id, (sku_id, group_id) = user_entry
    user = state.users.get(user_id)
    name = (user.display_name if user is not None else None) or user_id
    return name, state.catalog.skus[sku_id].part_number, group_id is not None, group_id or ""


def _entry(state: TenantState, user_entry: UserEntry) -> Entry | None:
    user = state.users.get(user_entry[0])
    return None if user is None else user.entries.get(user_entry[1])


def _cost(before: TenantState, after: TenantState, problem: Problem, outputs: list[Output], commands: int) -> Cost:
    targets = set(problem.users)
    own_plans = after.catalog.skus[problem.sku_id].plans
    changed: set[str] = set()
    licences: dict[str, list[dict[str, Any]]] = {}  # the last assignedLicenses of every user whose licences changed
    for kind, data in outputs:
        if kind == "LicenseAssignmentStateChanged" and data["userId"] not in targets:
            changed.add(data["userId"])
        elif kind == "AssignedLicensesChanged":
            licences[data["userId"]] = data["assignedLicenses"]
    removed = plans_off = 0
    for user_id, assigned in licences.items():
        was = _plans_per_sku(before, user_id)
        now = {lic["skuId"]: _enabled_mask(after, lic) for lic in assigned}
        for sku_id, plans in was.items():
            if plans and not now.get(sku_id) and not (user_id in targets and sku_id == problem.sku_id):
                removed += 1
        lost = _union(was) & ~_union(now)
        if user_id in targets:
            lost &= ~own_plans
        plans_off += bin(lost).count("1")
    seats = sum(_seats_bought(before, after).values())
    return Cost(seats, removed, plans_off, len(changed), commands)


def _plans_per_sku(state: TenantState, user_id: str) -> dict[str, int]:
    user = state.users.get(user_id)
    if user is None:
        return {}
    catalog = state.catalog
    return {sku_id: catalog.skus[sku_id].plans & ~disabled for sku_id, disabled in licenses_view(catalog, user)}


def _enabled_mask(state: TenantState, license: dict[str, Any]) -> int:
    catalog = state.catalog
    disabled = 0
    for plan_id in license["disabledPlans"]:
        bit = catalog.resolve_plan(plan_id)
        if bit is not None:
            disabled |= 1 << bit
    return catalog.skus[license["skuId"]].plans & ~disabled


def _union(per_sku: dict[str, int]) -> int:
    enabled = 0
    for plans in per_sku.values():
        enabled |= plans
    return enabled


def _seats_bought(before: TenantState, after: TenantState) -> dict[str, int]:
    bought = {}
    for sku_id, sub in after.subscriptions.items():
        old = before.subscriptions.get(sku_id)
        more = sub.capacity - (old.capacity if old is not None else 0)
        if more > 0:
            bought[after.catalog.skus[sku_id].part_number] = more
    return bought


def _entry_json(state: TenantState, user_entry: UserEntry, entry_state: str | None, error: str) -> dict[str, Any]:
    user_id, (sku_id, group_id) = user_entry
    user = state.users.get(user_id)
    return {
        "userId": user_id,
        "displayName": user.display_name if user is not None else None,
        "userPrincipalName": user.upn if user is not None else None,
        "skuId": sku_id,
        "skuPartNumber": state.catalog.skus[sku_id].part_number,
        "assignedByGroup": group_id,
        "groupDisplayName": None if group_id is None else group_label(state, group_id),
        "state": entry_state,
        "error": error,
    }


def _problem_json(state: TenantState, problem: Problem) -> dict[str, Any]:
    return {
        "error": problem.error,
        "skuPartNumber": state.catalog.skus[problem.sku_id].part_number,
        "entries": [_entry_json(state, e, _state_of(state, e), problem.error) for e in problem.entries],
    }


def _state_of(state: TenantState, user_entry: UserEntry) -> str | None:
    entry = _entry(state, user_entry)
    return None if entry is None else entry.state
