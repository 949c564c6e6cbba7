"""Candidate fixes of licence errors, one generator per error kind, in the order the fix plan's policy tries them
(processor.analysis.fixplan decides each on a copy of the state and keeps the cheapest that qualifies).

An action reads as an instruction to an administrator; `{user}` in it is filled in with the people it is for, so
the same fix of several entries reads once ("set the usage location of Arjun Patel and Rohan Mishra to US").
"""

from __future__ import annotations

from dataclasses import dataclass

from processor.analysis.commands import Command
from processor.analysis.lookup import group_label
from processor.core.catalog import bits
from processor.core.rules.uniqueness import address_key
from processor.core.state import (
    APPLIED_STATES,
    COUNT,
    DEPENDENCY,
    ERROR,
    EXCLUSIVE,
    LOCATION,
    UNIQUENESS,
    Entry,
    EntryKey,
    TenantState,
)

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


@dataclass
class Candidate:
    kind: str  # which of its error's fixes: the same fix of several entries is combined into one candidate
    action: str
    commands: list[Command]


def candidates(state: TenantState, problem: Problem) -> list[Candidate]:
    """The problem's candidate fixes in the policy's order: for several entries, each fix that exists for all of
    them, their commands together (a command they share, such as a group's configuration, once)."""
    found = [Candidate("reprocess", "reprocess only (the cause is gone already)", [])]
    if problem.error == COUNT:
        return found + _buy_seats(state, problem)  # (its actions name no user)
    per_entry = [_entry_candidates(state, user_entry, problem.error) for user_entry in problem.entries]
    for first in per_entry[0]:
        alike = [next((c for c in listed if c.kind == first.kind), None) for listed in per_entry]
        if any(c is None for c in alike):
            continue
        commands: list[Command] = []
        actions: list[tuple[str, str]] = []  # (action, the user it is for)
        for candidate, (user_id, _) in zip(alike, problem.entries):
            assert candidate is not None
            commands += [c for c in candidate.commands if c not in commands]
            actions.append((candidate.action, user_id))
        if len({action for action, _ in actions}) == 1:  # the same words for everyone: name them all once
            action = actions[0][0].format(user=_people([user_name(state, u) for u in problem.users]))
        else:
            action = "; ".join(dict.fromkeys(a.format(user=user_name(state, u)) for a, u in actions))
        found.append(Candidate(first.kind, action, commands))
    return found


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
                + ("{user}" if holder == user_id else _literal(user_name(state, holder))),
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
    for missing in (entry.detail or {}).get("missing", [])[:1]:  # the first broken dependency: a fix retries the rest
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


def user_name(state: TenantState, user_id: str) -> str:
    """A user as actions name them: displayName, else the id."""
    user = state.users.get(user_id)
    return (user.display_name if user is not None else None) or user_id


def _names(state: TenantState, mask: int) -> str:
    return ", ".join(sorted(state.catalog.plan_name(b) for b in bits(mask)))


def _source(state: TenantState, key: EntryKey, part: str) -> str:
    """A licence in an action's words; `{user}` is filled in with the people the action is for."""
    if key[1] is None:
        return f"the direct {part} of {{user}}"
    return _literal(f"{part} of group {group_label(state, key[1])!r}")


def _literal(text: str) -> str:
    """Text put into an action template as it is (braces doubled, so a name holding one is not a placeholder)."""
    return text.replace("{", "{{").replace("}", "}}")


def _people(names: list[str]) -> str:
    if len(names) <= 4:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{', '.join(names[:3])} and {len(names) - 3} others"
