"""The readable forms of the analyst tools' documents: rich tables naming people, groups, products and plans.

Each function prints exactly what the tool's JSON document holds (the CLI's `--json` prints the document itself),
so the table and the JSON never disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

MAX_ROWS = 40  # rows of a long what-if listing shown as a table


def _table(title: str, columns: list[tuple[str, int]]) -> Table:
    """A table as wide as the console; columns share the width by their ratios (0: as wide as the content)."""
    table = Table(title=title, title_justify="left", expand=True)
    for heading, ratio in columns:
        if ratio:
            table.add_column(heading, overflow="fold", ratio=ratio)
        else:
            table.add_column(heading, no_wrap=True)
    return table


def _state(state: str | None, error: str | None) -> str:
    if state is None:
        return "—"
    return state if error in (None, "None") else f"{state} {error}"


def _source(group_id: str | None, name: str | None) -> str:
    return "direct" if group_id is None else (name or group_id)


# ---- explain --------------------------------------------------------------------------------------------------


def explain(doc: dict[str, Any], out: Console) -> None:
    who = doc["displayName"] or doc["userId"]
    upn = f" ({doc['userPrincipalName']})" if doc["userPrincipalName"] else ""
    location = doc["usageLocation"] or "none"
    deleted = ", soft-deleted" if doc["deleted"] else ""
    out.print(f"[bold]{who}[/]{upn}: usage location {location}{deleted}")
    if not doc["skus"]:
        out.print("No licence held or meant to be held.")
    for sku in doc["skus"]:
        held = "held" if sku["held"] else "not held"
        sources = ", ".join(
            f"{_source(s['assignedByGroup'], s['groupDisplayName'])}: {_state(s['state'], s['error'])}"
            for s in sku["sources"]
        )
        table = _table(
            f"{sku['skuPartNumber']} — {held} ({sources})", [("Plan", 2), ("On", 0), ("Because", 5), ("Events", 2)]
        )
        for plans, because, events in _plans_alike(sku["plans"]):
            names = ", ".join(p["servicePlanName"] for p in plans)
            on = "yes" if plans[0]["enabled"] else "no"
            table.add_row(names, on, because, "\n".join(f"{e['type']} {e['id']} {e['time']}" for e in events))
        out.print(table)
        for source in sku["sources"]:
            if source["suggestedFix"]:
                where = _source(source["assignedByGroup"], source["groupDisplayName"])
                out.print(f"  fix ({where}): {source['suggestedFix']}")


def _plans_alike(plans: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], str, list[dict[str, str]]]]:
    """Plans with the same answer and the same events, on one row."""
    rows: dict[tuple[bool, str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for plan in plans:
        key = (plan["enabled"], plan["because"], tuple(e["id"] for e in plan["events"]))
        rows.setdefault(key, []).append(plan)
    return [(group, group[0]["because"], group[0]["events"]) for group in rows.values()]


# ---- timeline -------------------------------------------------------------------------------------------------


def timeline(doc: dict[str, Any], out: Console) -> None:
    table = _table(
        f"Licence timeline: {len(doc['changes'])} change(s)",
        [("Time", 0), ("Event", 3), ("User", 2), ("Product", 0), ("Source", 2), ("Change", 3), ("Reason", 3)],
    )
    for c in doc["changes"]:
        change = f"{_state(c['previousState'], c['previousError'])} → {_state(c['state'], c['error'])}"
        table.add_row(
            c["time"],
            f"{c['eventType']} {c['eventId']}",
            c["displayName"] or c["userId"],
            c["skuPartNumber"],
            _source(c["assignedByGroup"], c["groupDisplayName"]),
            change,
            c["reason"] or "",
        )
    out.print(table)


# ---- what-if --------------------------------------------------------------------------------------------------


def what_if(doc: dict[str, Any], out: Console) -> None:
    ingest = doc["ingest"]
    out.print(
        f"[bold]What-if for tenant {doc['tenant']}[/] (nothing written): would accept {ingest['accepted']}, "
        f"duplicates {ingest['duplicates']}, stale {ingest['stale']}, dead-lettered {ingest['deadLettered']}"
        + (f", other tenants' events ignored {ingest['otherTenants']}" if ingest["otherTenants"] else "")
    )
    for reason in ingest["reasons"]:
        out.print(f"  would dead-letter {reason}")
    entries = doc["licenseAssignmentStates"]
    if not (entries or doc["users"] or doc["subscribedSkus"] or doc["groups"] or doc["rejectedCommands"]):
        out.print("No licence, seat or group would change.")
    if entries:
        into_error = [e for e in entries if _errs(e["after"]) and not _errs(e["before"])]
        out_of_error = [e for e in entries if _errs(e["before"]) and not _errs(e["after"])]
        table = _table(
            f"Licence entries: {len(entries)} change, {len(into_error)} into error, {len(out_of_error)} out of error",
            [("User", 2), ("Product", 2), ("Source", 2), ("Before", 3), ("After", 3)],
        )
        # Entries going into error first, then those leaving it, then the rest; a long list is cut (--json has all).
        rest = [e for e in entries if e not in into_error and e not in out_of_error]
        shown = [e for group in (into_error, out_of_error, rest) for e in sorted(group, key=_by_name)]
        for e in shown[:MAX_ROWS]:
            table.add_row(
                e["displayName"] or e["userId"],
                e["skuPartNumber"],
                _source(e["assignedByGroup"], e["groupDisplayName"]),
                _view(e["before"]),
                _view(e["after"]),
            )
        if len(shown) > MAX_ROWS:
            table.add_row(f"… {len(shown) - MAX_ROWS} more (--json lists all)", "", "", "", "")
        out.print(table)
    if doc["users"]:
        table = _table(f"Plans gained and lost: {len(doc['users'])} user(s)", [("User", 1), ("Gains", 2), ("Loses", 2)])
        for u in doc["users"][:MAX_ROWS]:
            table.add_row(u["displayName"] or u["userId"], ", ".join(u["gainedPlans"]), ", ".join(u["lostPlans"]))
        if len(doc["users"]) > MAX_ROWS:
            table.add_row(f"… {len(doc['users']) - MAX_ROWS} more (--json lists all)", "", "")
        out.print(table)
    if doc["subscribedSkus"]:
        table = Table(title="Seats", title_justify="left")
        for column in ("Product", "Assigned", "Available"):
            table.add_column(column, no_wrap=True)
        for s in doc["subscribedSkus"]:
            consumed, available = s["consumedUnits"], s["availableUnits"]
            table.add_row(s["skuPartNumber"], _arrow(consumed), _arrow(available))
        out.print(table)
    for g in doc["groups"]:
        flip = (
            "would have members in error" if g["hasMembersWithLicenseErrors"]["after"] else "would be clear of errors"
        )
        out.print(f"Group {g['displayName']!r} {flip}")
    if doc["rejectedCommands"]:
        table = _table(
            "Commands that would be rejected",
            [("Event", 2), ("Command", 2), ("Target", 2), ("Error", 2), ("Message", 4)],
        )
        for r in doc["rejectedCommands"]:
            table.add_row(r["eventId"], r["type"], r["target"] or "", r["error"], r["message"])
        out.print(table)


def _by_name(entry: dict[str, Any]) -> tuple[str, str]:
    return entry["displayName"] or entry["userId"], entry["skuPartNumber"]


def _errs(view: dict[str, Any] | None) -> bool:
    return view is not None and view["state"] in ("Error", "ActiveWithError")


def _view(view: dict[str, Any] | None) -> str:
    if view is None:
        return "—"
    disabled = len(view["disabledPlans"])
    return _state(view["state"], view["error"]) + (f" ({disabled} plan(s) off)" if disabled else "")


def _arrow(pair: dict[str, Any]) -> str:
    before = "—" if pair["before"] is None else str(pair["before"])
    return f"{before} → {pair['after']}"


# ---- fix plan -------------------------------------------------------------------------------------------------


def fix_plan(doc: dict[str, Any], out: Console, events_file: str | None) -> None:
    out.print(
        f"[bold]Fix plan for tenant {doc['tenant']}[/]: {doc['errorsBefore']} entries in error, "
        f"{doc['errorsAfter']} left after the plan"
    )
    out.print(f"Policy: {doc['policy']}")
    if doc["seatsToBuy"]:
        out.print("Seats to buy: " + ", ".join(f"{s['seats']} {s['skuPartNumber']}" for s in doc["seatsToBuy"]))
    table = _table(
        f"Steps: {len(doc['steps'])}",
        [("#", 0), ("Error", 2), ("Who", 4), ("Change", 5), ("Cost", 2), ("Clears", 0)],
    )
    for n, step in enumerate(doc["steps"], 1):
        problem = step["problem"]
        who: dict[str, list[str]] = {}
        for e in problem["entries"]:
            licence = f"{e['skuPartNumber']} ({_source(e['assignedByGroup'], e['groupDisplayName'])})"
            who.setdefault(licence, []).append(e["displayName"] or e["userId"])
        people = "\n".join(f"{licence}: {', '.join(names)}" for licence, names in who.items())
        cleared = len(step["clears"])
        table.add_row(str(n), problem["error"], people, step["action"], _cost(step["cost"]), str(cleared))
    out.print(table)
    if doc["unfixed"]:
        table = _table(
            f"Left in error: {len(doc['unfixed'])}",
            [("User", 2), ("Product", 2), ("Source", 2), ("Error", 2), ("Why not", 3), ("Suggested fix", 3)],
        )
        for u in doc["unfixed"]:
            table.add_row(
                u["displayName"] or u["userId"],
                u["skuPartNumber"],
                _source(u["assignedByGroup"], u["groupDisplayName"]),
                _state(u["state"], u["error"]),
                u["whyNot"],
                u["suggestedFix"] or "",
            )
        out.print(table)
    if events_file:
        out.print(f"{len(doc['events'])} events written to {events_file}: check with `licensing what-if`, then ingest")


def _cost(cost: dict[str, int]) -> str:
    parts = [
        f"{cost['seatsBought']} seat(s) bought" if cost["seatsBought"] else "",
        f"{cost['licencesRemoved']} licence(s) removed" if cost["licencesRemoved"] else "",
        f"{cost['plansSwitchedOff']} plan(s) off" if cost["plansSwitchedOff"] else "",
        f"{cost['otherUsersChanged']} other user(s) changed" if cost["otherUsersChanged"] else "",
    ]
    return ", ".join(p for p in parts if p) or "nothing"


# ---- reports --------------------------------------------------------------------------------------------------


_REPORT_RATIOS = {
    "reason": 3,
    "suggestedFix": 3,
    "status": 2,
    "userPrincipalName": 2,
    "skuPartNumber": 0,
    "seats": 0,
    "stillOn": 0,
}


def report_table(title: str, columns: Sequence[tuple[str, str]], rows: list[dict[str, Any]], out: Console) -> None:
    """A report's rows under `columns` ((key, heading) pairs)."""
    if not rows:
        out.print(f"{title}: none")
        return
    table = _table(title, [(heading, _REPORT_RATIOS.get(key, 1)) for key, heading in columns])
    for row in rows:
        table.add_row(*["" if row.get(key) is None else str(row[key]) for key, _ in columns])
    out.print(table)


def report_csv(columns: Sequence[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    """The rows as CSV, one column per JSON key (the header is the keys, so CSV and JSON name fields alike)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([key for key, _ in columns])
    for row in rows:
        writer.writerow(["" if row.get(key) is None else row[key] for key, _ in columns])
    return buffer.getvalue()
