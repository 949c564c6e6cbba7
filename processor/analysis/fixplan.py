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
from processor.analysis.lookup import copy_tenant, current_state, frozen, group_label, thawed
from processor.analysis.whatif import Command
from processor.core.catalog import bits
from processor.core.context import Output, licenses_view
from processor.core.decide import decide_changes
from processor.core.rules.uniqueness import address_key
from processor.core.state import (
    ACTIVE,
    APPLIED_STATES,
    COUNT,
    DEPENDENCY,
    ERROR,
    ERROR_STATES,
    EXCLUSIVE,
    LOCATION,
    OTHER,
    UNIQUENESS,
    Entry,
    EntryKey,
    TenantState,
)

SOURCE = "/fix-plan"
KIND_ORDER = (COUNT, LOCATION, UNIQUENESS, EXCLUSIVE, DEPENDENCY)  # purchases first; Other clears with its sibling
UserEntry = tuple[str, EntryKey]  # (userId, (skuId, group or None))


@dataclass(frozen=True)
class Problem:
    """Errors that one fix addresses: one entry, or every user waiting for seats of one product."""

    error: str
    sku_id: str
    entries: tuple[UserEntry, ...]

    @property
    def users(self) -> list[str]:
        return list(dict.fromkeys(user_id for user_id, _ in self.entries))


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
class Candidate:
    kind: str  # which of its error's fixes: the same fix of several entries is combined into one candidate
    action: str
    commands: list[Command]


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
        detail = (entry.detail if entry is not None else None) or {}
        tried = plan.tried.get(user_entry)
        plan.unfixed.append(
            {
                **_entry_json(work, user_entry, entry_state, error),
                "reason": detail.get("reason"),
                "suggestedFix": detail.get("suggestedFix"),
                "whyNot": (
                    "no candidate fix qualified"
                    if tried
                    else "waits for the fix of its sibling product in the same group"
                    if error == OTHER
                    else "not reached"
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


POLICY = (
    "Each candidate fix is decided on a copy of the state; it qualifies if no command is rejected, the error is "
    "gone and nothing else goes into error. Of those, the fewest seats bought, then the fewest licences removed, then "
    "the fewest plans switched off, then the fewest other users changed, then the fewest commands."
)


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
    for candidate in _candidates(work, problem):
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
            part, user = data["skuPartNumber"], _user(trial.state, data["userId"])
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


# ---- candidates -----------------------------------------------------------------------------------------------


def _candidates(state: TenantState, problem: Problem) -> list[Candidate]:
    """The problem's candidate fixes in the policy's order: for several entries, each fix that exists for all of
    them, their commands together (a command they share, such as a group's configuration, once)."""
    candidates = [Candidate("reprocess", "reprocess only (the cause is gone already)", [])]
    if problem.error == COUNT:
        return candidates + _buy_seats(state, problem)  # (its actions name no user)
    per_entry = [_entry_candidates(state, user_entry, problem.error) for user_entry in problem.entries]
    for first in per_entry[0]:
        alike = [next((c for c in found if c.kind == first.kind), None) for found in per_entry]
        if any(c is None for c in alike):
            continue
        commands: list[Command] = []
        for candidate in alike:
            assert candidate is not None
            commands += [c for c in candidate.commands if c not in commands]
        actions = list(dict.fromkeys(c.action for c in alike if c is not None))
        if len(actions) == 1:  # the same words for everyone: name them all once
            action = actions[0].format(user=_people([_user(state, u) for u in problem.users]))
        else:
            action = "; ".join(a.format(user=_user(state, u)) for a, (u, _) in zip(actions, problem.entries))
        candidates.append(Candidate(first.kind, action, commands))
    return candidates


def _entry_candidates(state: TenantState, user_entry: UserEntry, error: str) -> list[Candidate]:
    user_id, key = user_entry
    entry = state.users[user_id].entries[key]
    if error == LOCATION:
        return _relocate(state, user_id, key, entry)
    if error == UNIQUENESS:
        return _unshare_addresses(state, user_id, entry)
    if error == EXCLUSIVE:
        return _resolve_clash(state, user_id, key, entry)
    if error == DEPENDENCY:
        return _resolve_dependency(state, user_id, key, entry)
    return []


def _buy_seats(state: TenantState, problem: Problem) -> list[Candidate]:
    sku_id = problem.sku_id
    need = len(problem.users) - state.available(sku_id)
    if need <= 0:
        return []
    sub = state.subscriptions.get(sku_id)
    enabled, warning, suspended, locked = (
        (sub.enabled, sub.warning, sub.suspended, sub.locked_out) if sub is not None else (0, 0, 0, 0)
    )
    part = state.catalog.skus[sku_id].part_number
    units = {"enabled": enabled + need, "warning": warning, "suspended": suspended, "lockedOut": locked}
    action = f"buy {need} {part} seat{'s' if need > 1 else ''} ({enabled + warning} -> {enabled + warning + need})"
    return [Candidate("buy", action, [("SubscriptionChanged", {"skuId": sku_id, "prepaidUnits": units})])]


def _relocate(state: TenantState, user_id: str, key: EntryKey, entry: Entry) -> list[Candidate]:
    catalog = state.catalog
    detail = entry.detail or {}
    blocked = [catalog.resolve_plan(p["servicePlanId"]) for p in detail.get("plans", [])]
    blocked_bits = [b for b in blocked if b is not None]
    candidates = []
    if blocked_bits:
        allowed = set.intersection(*(set(catalog.allowed_countries.get(b, ())) for b in blocked_bits))
        if allowed:
            country = state.country if state.country in allowed else sorted(allowed)[0]
            names = ", ".join(catalog.plan_name(b) for b in blocked_bits)
            was = state.users[user_id].usage_location or "none"
            candidates.append(
                Candidate(
                    "relocate",
                    f"set the usage location of {{user}} to {country} ({names} is offered there; "
                    f"today {was}; check that the user works there)",
                    [("UserUpdated", {"userId": user_id, "usageLocation": country})],
                )
            )
        mask = 0
        for bit in blocked_bits:
            mask |= 1 << bit
        candidates += _switch_off(state, user_id, key, mask, "where the location does not allow it", "own")
    return candidates


def _unshare_addresses(state: TenantState, user_id: str, entry: Entry) -> list[Candidate]:
    shared = {a["address"]: a["alsoUsedBy"] for a in (entry.detail or {}).get("addresses", [])}
    if not shared:
        return []
    candidates = []
    for holder in [user_id, *sorted({h for holders in shared.values() for h in holders})]:
        person = state.users.get(holder)
        if person is None:
            continue
        keep = [a for a in person.proxy_addresses if address_key(a) not in shared]
        if len(keep) == len(person.proxy_addresses):
            continue
        gone = ", ".join(a for a in person.proxy_addresses if address_key(a) in shared)
        candidates.append(
            Candidate(
                "unshare-self" if holder == user_id else f"unshare-{holder}",
                f"remove {gone} from the proxy addresses of "
                + ("{user}" if holder == user_id else _braced(state, holder)),
                [("UserUpdated", {"userId": holder, "proxyAddresses": keep})],
            )
        )
    return candidates


def _resolve_clash(state: TenantState, user_id: str, key: EntryKey, entry: Entry) -> list[Candidate]:
    catalog = state.catalog
    user = state.users[user_id]
    new_plans = existing = 0
    for pair in (entry.detail or {}).get("pairs", []):
        for ref, into in ((pair["plan"], "new"), (pair["conflictsWith"], "old")):
            bit = catalog.resolve_plan(ref["servicePlanId"])
            if bit is not None:
                if into == "new":
                    new_plans |= 1 << bit
                else:
                    existing |= 1 << bit
    narrow: list[Command] = []
    remove: list[Command] = []
    narrowed, removed = [], []
    for other_key, other in sorted(user.entries.items(), key=lambda p: (p[0][1] is not None, p[0][1] or "")):
        if other_key[0] == key[0] or other.state not in APPLIED_STATES:
            continue
        clashing = catalog.skus[other.sku_id].plans & ~other.disabled & existing
        if not clashing:
            continue
        names = _names(state, clashing)
        part = catalog.skus[other.sku_id].part_number
        step = _switch_off_command(state, user_id, other_key, clashing)
        if step is None:
            continue
        narrow.append(step)
        narrowed.append(f"{names} in {_source(state, other_key, part)}")
        if other_key[1] is None:
            remove.append(
                ("UserLicensesChanged", {"userId": user_id, "addLicenses": [], "removeLicenses": [other.sku_id]})
            )
            removed.append(f"the direct {part} of {{user}}")
        else:
            remove.append(step)
            removed.append(f"{names} in {_source(state, other_key, part)}")
    candidates = []
    if narrow:
        candidates.append(Candidate("narrow-other", "switch off " + "; ".join(narrowed), narrow))
    if remove != narrow:
        candidates.append(Candidate("remove-other", "remove " + "; ".join(removed), remove))
    if new_plans:
        candidates += _switch_off(state, user_id, key, new_plans, "the clashing plans of the failing licence", "own")
    return candidates


def _resolve_dependency(state: TenantState, user_id: str, key: EntryKey, entry: Entry) -> list[Candidate]:
    catalog = state.catalog
    user = state.users[user_id]
    candidates = []
    for missing in (entry.detail or {}).get("missing", [])[:1]:
        dependent = catalog.resolve_plan(missing["plan"]["servicePlanId"])
        prerequisites = [catalog.resolve_plan(p["servicePlanId"]) for p in missing["requiresAnyOf"]]
        needs = [b for b in prerequisites if b is not None]
        if dependent is None or not needs:
            continue
        need_mask = 0
        for bit in needs:
            need_mask |= 1 << bit
        for direct_key, direct in sorted(user.entries.items(), key=lambda p: catalog.skus[p[0][0]].part_number):
            has = catalog.skus[direct.sku_id].plans & need_mask & direct.requested
            if direct_key[1] is None and direct.state in APPLIED_STATES and has:
                bit = next(bits(has))
                part = catalog.skus[direct.sku_id].part_number
                disabled = direct.requested & ~(1 << bit)
                candidates.append(
                    Candidate(
                        "widen-direct",
                        f"switch {catalog.plan_name(bit)} on in the direct {part} of {{user}}",
                        [_direct_add(state, user_id, direct.sku_id, disabled)],
                    )
                )
        givers = sorted(
            (s for s in catalog.skus.values() if s.applies_to == "User" and s.plans & need_mask),
            key=lambda s: (s.sku_id != key[0], s.part_number),
        )
        for sku in givers[:2]:
            bit = next(bits(sku.plans & need_mask))
            if (sku.sku_id, None) in user.entries:
                continue
            candidates.append(
                Candidate(
                    f"give-{sku.part_number}",
                    f"give {{user}} {catalog.plan_name(bit)} through a direct {sku.part_number} with "
                    f"only {catalog.plan_name(bit)} on",
                    [_direct_add(state, user_id, sku.sku_id, sku.plans & ~(1 << bit))],
                )
            )
        for holder_key, holder in sorted(user.entries.items(), key=lambda p: (p[0][1] is not None, p[0][1] or "")):
            plans = catalog.skus[holder.sku_id].plans & ~holder.disabled
            if holder.state in APPLIED_STATES and plans & (1 << dependent) and holder_key != key:
                candidates += _switch_off(
                    state, user_id, holder_key, 1 << dependent, "the plan that needs the prerequisite", "dependent"
                )
    if entry.state == ERROR and (entry.detail or {}).get("missing"):
        dependent_bits = 0
        for missing in (entry.detail or {}).get("missing", []):
            found = catalog.resolve_plan(missing["plan"]["servicePlanId"])
            if found is not None:
                dependent_bits |= 1 << found
        candidates += _switch_off(state, user_id, key, dependent_bits, "the plans that lack their prerequisite", "own")
    return candidates


# ---- commands -------------------------------------------------------------------------------------------------


def _switch_off(state: TenantState, user_id: str, key: EntryKey, plans: int, why: str, kind: str) -> list[Candidate]:
    """Switch `plans` off in the source of entry `key` (its group's configuration, or the direct licence)."""
    step = _switch_off_command(state, user_id, key, plans)
    if step is None:
        return []
    part = state.catalog.skus[key[0]].part_number
    if step[0] == "UserLicensesChanged" and not step[1]["addLicenses"]:
        return [Candidate(kind, f"remove the direct {part} of {{user}} ({why})", [step])]
    return [Candidate(kind, f"switch off {_names(state, plans)} in {_source(state, key, part)} ({why})", [step])]


def _switch_off_command(state: TenantState, user_id: str, key: EntryKey, plans: int) -> Command | None:
    """The command turning `plans` off in the source of `key`; a direct licence left with nothing is removed."""
    sku_id, group_id = key
    sku = state.catalog.skus[sku_id]
    if group_id is None:
        entry = state.users[user_id].entries[key]
        disabled = entry.requested | plans
        if not sku.plans & ~disabled:
            return ("UserLicensesChanged", {"userId": user_id, "addLicenses": [], "removeLicenses": [sku_id]})
        return _direct_add(state, user_id, sku_id, disabled)
    group = state.groups.get(group_id)
    if group is None or group.deleted or sku_id not in group.licenses:
        return None
    disabled = group.licenses[sku_id] | plans
    return (
        "GroupLicensesChanged",
        {
            "groupId": group_id,
            "addLicenses": [{"skuId": sku_id, "disabledPlans": state.catalog.plan_id_list(disabled)}],
        },
    )


def _direct_add(state: TenantState, user_id: str, sku_id: str, disabled: int) -> Command:
    return (
        "UserLicensesChanged",
        {
            "userId": user_id,
            "addLicenses": [{"skuId": sku_id, "disabledPlans": state.catalog.plan_id_list(disabled)}],
            "removeLicenses": [],
        },
    )


# ---- names ----------------------------------------------------------------------------------------------------


def _user(state: TenantState, user_id: str) -> str:
    user = state.users.get(user_id)
    return (user.display_name if user is not None else None) or user_id


def _names(state: TenantState, mask: int) -> str:
    return ", ".join(sorted(state.catalog.plan_name(b) for b in bits(mask)))


def _source(state: TenantState, key: EntryKey, part: str) -> str:
    """A licence in an action's words; `{user}` is filled in with the people the action is for."""
    if key[1] is None:
        return f"the direct {part} of {{user}}"
    return _braced(state, f"{part} of group {group_label(state, key[1])!r}")


def _braced(state: TenantState, text: str) -> str:
    """Text put into an action template as it is (braces doubled)."""
    user = state.users.get(text)
    name = (user.display_name or text) if user is not None else text
    return name.replace("{", "{{").replace("}", "}}")


def _people(names: list[str]) -> str:
    if len(names) <= 4:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{', '.join(names[:3])} and {len(names) - 3} others"


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
