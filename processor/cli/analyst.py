"""The analyst's commands: explain, timeline, what-if, fix-plan, reprocess, alerts and report (processor.analysis).

Readable tables by default, `--json` for the documents (stable keys), `--csv` for reports; a progress bar while a
tenant's log is re-decided. Bad input ends with a one-line message and exit status 1.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from processor.analysis import render
from processor.analysis.commands import CommandBatch, event_lines, now, write_events
from processor.analysis.lookup import UnknownName, current_state, require_tenant, resolve_group, resolve_user
from processor.cli.app import DB_HELP, database_path, fail, main
from processor.embedded import eventlog
from processor.embedded.asof import parse_time
from processor.embedded.database import open_database
from processor.terminal import UnreadableInput, check_readable, input_lines, progress_bar
from projections.export import UnknownTenant

TENANT = click.option("--tenant", required=True, help="Tenant (directory) id.")
DB = click.option("--db", help=DB_HELP)
JSON = click.option("--json", "as_json", is_flag=True, help="Print the JSON document instead of tables.")


def _out() -> Console:
    """Standard output: as wide as the terminal, 140 columns when piped (tables stay readable in files)."""
    return Console(width=shutil.get_terminal_size((140, 24)).columns, soft_wrap=False)


def _echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2))


@contextmanager
def _store(db: str | None) -> Iterator[sqlite3.Connection]:
    """The existing store; what the user named wrong ends the command with one line."""
    try:
        conn = open_database(database_path(db), create=False)
    except FileNotFoundError as exc:
        fail(str(exc))
    try:
        yield conn
    except (UnknownName, UnknownTenant, UnreadableInput) as exc:
        fail(exc.args[0] if exc.args else str(exc))
    finally:
        conn.close()


@contextmanager
def _replaying(conn: sqlite3.Connection, what: str) -> Iterator[Callable[[int], None]]:
    """A progress bar over the log's lines while a tenant is re-decided."""
    with progress_bar() as bar:
        task = bar.add_task(what, total=eventlog.count(conn), rate="")
        yield lambda n: bar.advance(task, n)


def _time(value: str | None) -> str:
    if value is None:
        return now()
    try:
        parse_time(value)
    except ValueError:
        fail(f"--time {value!r} is not an RFC 3339 time with a UTC offset, such as 2026-02-01T09:00:00Z")
    return value


# ---- explain and timeline -------------------------------------------------------------------------------------


@main.command()
@TENANT
@click.option("--user", required=True, help="User id, userPrincipalName or displayName.")
@click.option("--sku", help="Only this product (skuPartNumber or GUID).")
@click.option("--plan", help="Only this service plan (servicePlanName or GUID).")
@JSON
@DB
def explain(tenant: str, user: str, sku: str | None, plan: str | None, as_json: bool, db: str | None) -> None:
    """Why a user has, or has not, each service plan: the sources, disabled plans and errors, with their events.

    \b
    Examples:
      licensing explain --tenant contoso --user alice@contoso.com
      licensing explain --tenant contoso --user u1 --sku ENTERPRISEPACK --plan EXCHANGE_S_ENTERPRISE --json
    """
    from processor.analysis.explain import explain as explain_user

    with _store(db) as conn:
        user_id = resolve_user(conn, tenant, user)
        with _replaying(conn, "reading the log") as progress:
            document = explain_user(conn, tenant, user_id, sku, plan, progress)
    if as_json:
        _echo_json(document)
    else:
        render.explain(document, _out())


@main.command()
@TENANT
@click.option("--user", help="User id, userPrincipalName or displayName.")
@click.option("--group", help="Group id or displayName: the changes of its members' entries.")
@JSON
@DB
def timeline(tenant: str, user: str | None, group: str | None, as_json: bool, db: str | None) -> None:
    """Every change of a user's (or a group's members') licence entries, in log order, with its cause.

    \b
    Examples:
      licensing timeline --tenant contoso --user alice@contoso.com
      licensing timeline --tenant contoso --group "All Staff E3" --json
    """
    from processor.analysis.timeline import timeline as licence_timeline

    if (user is None) == (group is None):
        fail("give exactly one of --user and --group")
    with _store(db) as conn:
        user_id = resolve_user(conn, tenant, user) if user is not None else None
        group_id = resolve_group(conn, tenant, group) if group is not None else None
        with _replaying(conn, "reading the log") as progress:
            document = licence_timeline(conn, tenant, user_id, group_id, progress)
    if as_json:
        _echo_json(document)
    else:
        render.timeline(document, _out())


# ---- what-if and fix plan -------------------------------------------------------------------------------------


def _license(value: str) -> tuple[str, list[str]]:
    sku, _, plans = value.partition(":")
    return sku, [p for p in plans.split(",") if p]


@main.command("what-if")
@click.argument("file", required=False)
@TENANT
@click.option("--group", help="Dry-run an edit of this group (id or displayName) instead of a file.")
@click.option(
    "--add-license",
    multiple=True,
    metavar="SKU[:PLAN,...]",
    help="With --group: add the product (its disabled plans after the colon). With --remove-license: an atomic swap.",
)
@click.option("--remove-license", multiple=True, metavar="SKU", help="With --group: remove the product.")
@click.option("--add-member", multiple=True, metavar="USER", help="With --group: add the member.")
@click.option("--remove-member", multiple=True, metavar="USER", help="With --group: remove the member.")
@click.option(
    "--members-file",
    type=click.Path(dir_okay=False),
    help="With --group: the group's new membership list, one user (id, userPrincipalName or displayName) a line.",
)
@click.option("--out", type=click.Path(dir_okay=False), help="With --group: also write the edit's events here.")
@click.option("--time", "at", help="With --group: the edit's time (default: now).")
@JSON
@DB
def what_if(
    file: str | None,
    tenant: str,
    group: str | None,
    add_license: tuple[str, ...],
    remove_license: tuple[str, ...],
    add_member: tuple[str, ...],
    remove_member: tuple[str, ...],
    members_file: str | None,
    out: str | None,
    at: str | None,
    as_json: bool,
    db: str | None,
) -> None:
    """What ingesting FILE ('-' = stdin) would change, decided on a copy of the tenant's state; nothing is written.

    \b
    Shows the entries that change state (into or out of error), the plans users gain or lose, seat changes per
    product, groups whose error status flips and the commands that would be rejected: exactly what `ingest`
    then does. Instead of a file, --group dry-runs an edit of a group: a licence swap in one atomic change, or
    membership changes.
    Examples:
      licensing what-if --tenant contoso new-hires.jsonl
      licensing what-if --tenant contoso --group "Kiosk" --add-license ENTERPRISEPACK --remove-license STANDARDPACK
      licensing what-if --tenant contoso --group "Sales" --members-file sales-members.txt
    """
    from processor.analysis.whatif import group_edit
    from processor.analysis.whatif import what_if as predict

    edits = bool(add_license or remove_license or add_member or remove_member or members_file)
    if (file is None) == (group is None) or (group is None and edits) or (group is not None and not edits):
        fail("give FILE, or --group with at least one edit (--add-license, --remove-license, members)")
    with _store(db) as conn:
        if file is not None:
            check_readable((file,))
            lines = list(input_lines((file,)))
        else:
            assert group is not None
            group_id = resolve_group(conn, tenant, group)
            members = None
            if members_file is not None:
                check_readable((members_file,))
                listed = Path(members_file).read_text(encoding="utf-8").splitlines()
                members = [resolve_user(conn, tenant, name.strip()) for name in listed if name.strip()]
            commands = group_edit(
                current_state(conn, tenant),
                group_id,
                [_license(value) for value in add_license],
                remove_license,
                [resolve_user(conn, tenant, name) for name in add_member],
                [resolve_user(conn, tenant, name) for name in remove_member],
                members,
            )
            batch = CommandBatch(tenant, "/what-if", _time(at), "what-if")
            for event_type, data in commands:
                batch.add(event_type, data)
            if out is not None:
                write_events(batch.events, Path(out))
            lines = list(event_lines(batch.events, "what-if"))
        document = predict(conn, tenant, lines)
    if as_json:
        _echo_json(document)
    else:
        render.what_if(document, _out())


@main.command("fix-plan")
@TENANT
@click.option("--out", type=click.Path(dir_okay=False), help="Write the plan's events here (a file `ingest` takes).")
@click.option("--time", "at", help="The time the plan's events carry (default: now).")
@JSON
@DB
def fix_plan(tenant: str, out: str | None, at: str | None, as_json: bool, db: str | None) -> None:
    """For every licence entry in error, the change that clears it: seats to buy, usage locations to set, plans to
    switch off or licences to remove, duplicate addresses to resolve, prerequisites to add.

    \b
    Each fix is checked by deciding it on a copy of the state. Policy: the fewest seats bought, then the fewest
    licences removed, then the fewest plans switched off, then the fewest other users changed.
    Examples:
      licensing fix-plan --tenant contoso --out fixes.jsonl
      licensing what-if --tenant contoso fixes.jsonl     # its whole effect
      licensing ingest fixes.jsonl                       # apply it
    """
    from processor.analysis.fixplan import fix_plan as plan_fixes

    when = _time(at)
    with _store(db) as conn:
        with progress_bar() as bar:
            task = bar.add_task("planning", total=None, rate="")
            document = plan_fixes(conn, tenant, when, lambda n: bar.advance(task, n))
    if out is not None:
        write_events(document["events"], Path(out))
    if as_json:
        _echo_json(document)
    else:
        render.fix_plan(document, _out(), out)


# ---- reprocess ------------------------------------------------------------------------------------------------


@main.command()
@TENANT
@click.option("--user", "users", multiple=True, help="User id, userPrincipalName or displayName (repeatable).")
@click.option("--group", "groups", multiple=True, help="Group id or displayName (repeatable).")
@click.option("--all-errors", is_flag=True, help="Every user with an entry in error, oldest error first.")
@click.option("--sku", help="Every user in error on this product, oldest error first.")
@DB
def reprocess(
    tenant: str, users: tuple[str, ...], groups: tuple[str, ...], all_errors: bool, sku: str | None, db: str | None
) -> None:
    """Append Reprocess commands to the log and decide them (no 20-user limit).

    \b
    Examples:
      licensing reprocess --tenant contoso --group "Project Managers"
      licensing reprocess --tenant contoso --sku EMSPREMIUM
      licensing reprocess --tenant contoso --all-errors
    """
    from processor.analysis.reprocess import reprocess as run_reprocess

    if sum(map(bool, (users, groups, all_errors, sku))) != 1:
        fail("give one of --user, --group, --all-errors and --sku")
    with _store(db) as conn:
        user_ids = [resolve_user(conn, tenant, u) for u in users]
        group_ids = [resolve_group(conn, tenant, g) for g in groups]
        with progress_bar() as bar:
            task = bar.add_task("reprocessing", total=None, rate="")
            summary = run_reprocess(
                conn, tenant, user_ids, group_ids, all_errors, sku, progress=lambda n: bar.advance(task, n)
            )
    click.echo(
        f"reprocessed {summary['requested']} target(s) (accepted {summary['accepted']}, duplicates "
        f"{summary['duplicates']}): entries in error {summary['errorsBefore']} -> {summary['errorsAfter']}",
        err=True,
    )


# ---- alerts ---------------------------------------------------------------------------------------------------


@main.command()
@click.option("--webhook", required=True, help="URL that receives one JSON POST per alert.")
@click.option("--tenant", help="Only this tenant's alerts (default: every tenant).")
@click.option("--from-start", is_flag=True, help="Alert on the whole log, not only on what is appended from now on.")
@click.option("--once", is_flag=True, help="Exit once caught up with the log instead of following it.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the log.")
@DB
def alerts(webhook: str, tenant: str | None, from_start: bool, once: bool, interval: float, db: str | None) -> None:
    """Follow the log and POST an alert per new licence error and per group whose error status changes.

    \b
    Each alert names the user, product, responsible group, reason and suggested fix. Deliveries are retried with
    back-off on their own thread; deciding never waits for them.
    Examples:
      licensing alerts --webhook http://127.0.0.1:8080/licensing-alerts
      licensing alerts --webhook http://127.0.0.1:8080/hook --from-start --once
    """
    from processor.analysis.alerts import AlertFollower, WebhookSender

    if not webhook.startswith(("http://", "https://")):
        fail(f"--webhook {webhook!r} is not an http(s) URL")

    def gave_up(alert: dict[str, Any], why: str) -> None:
        click.echo(f"licensing: gave up delivering a {alert['type']} alert to {webhook}: {why}", err=True)

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop ends it as Ctrl-C does
    with _store(db) as conn:
        if tenant is not None:
            require_tenant(conn, tenant)
        follower = AlertFollower(conn, tenant, from_start)
        sender = WebhookSender(webhook, on_give_up=gave_up)
        sent = 0
        try:
            while True:
                for alert in follower.poll():
                    sender.send(alert)
                    sent += 1
                if once:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        finally:
            sender.close()
    click.echo(f"alerts: {sent} queued, {sender.delivered} delivered, {sender.given_up} given up", err=True)


# ---- reports --------------------------------------------------------------------------------------------------


@main.group()
def report() -> None:
    """Reports as a table, --json or --csv: seats, new-plans, errors."""


def _report_output(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        fail("give at most one of --json and --csv")


CSV = click.option("--csv", "as_csv", is_flag=True, help="Print the rows as CSV (header: the JSON keys).")


@report.command()
@TENANT
@JSON
@CSV
@DB
def seats(tenant: str, as_json: bool, as_csv: bool, db: str | None) -> None:
    """Seats held by soft-deleted and sign-in-disabled users and by entries stuck in ActiveWithError."""
    from processor.analysis.reports import SEAT_COLUMNS, SEAT_SUMMARY_COLUMNS, seats_report

    _report_output(as_json, as_csv)
    with _store(db) as conn:
        document = seats_report(conn, tenant)
    if as_json:
        _echo_json(document)
    elif as_csv:
        click.echo(render.report_csv(SEAT_COLUMNS, document["rows"]), nl=False)
    else:
        out = _out()
        totals = ", ".join(f"{s['seats']} {s['skuPartNumber']}" for s in document["bySku"]) or "none"
        out.print(f"[bold]Seats that may be wasted[/]: {totals}")
        render.report_table("Per product and group", SEAT_SUMMARY_COLUMNS, document["summary"], out)
        render.report_table("Holders", SEAT_COLUMNS[:6], document["rows"], out)


@report.command("new-plans")
@TENANT
@JSON
@CSV
@DB
def new_plans(tenant: str, as_json: bool, as_csv: bool, db: str | None) -> None:
    """Groups and users for which a vendor's ServicePlanAdded turned a new plan on, and whether it still is."""
    from processor.analysis.reports import NEW_PLAN_COLUMNS, new_plans_report

    _report_output(as_json, as_csv)
    with _store(db) as conn:
        with _replaying(conn, "reading the log") as progress:
            document = new_plans_report(conn, tenant, progress)
    if as_json:
        _echo_json(document)
    elif as_csv:
        click.echo(render.report_csv(NEW_PLAN_COLUMNS, document["rows"]), nl=False)
    else:
        title = "Plans turned on by vendor additions"
        render.report_table(title, NEW_PLAN_COLUMNS[:7], document["rows"], _out())


@report.command()
@TENANT
@JSON
@CSV
@DB
def errors(tenant: str, as_json: bool, as_csv: bool, db: str | None) -> None:
    """One row per licence entry in error, with its group and code (the PowerShell recipe)."""
    from processor.analysis.reports import ERROR_COLUMNS, errors_report

    _report_output(as_json, as_csv)
    with _store(db) as conn:
        document = errors_report(conn, tenant)
    if as_json:
        _echo_json(document)
    elif as_csv:
        click.echo(render.report_csv(ERROR_COLUMNS, document["rows"]), nl=False)
    else:
        rows = [row | {"status": f"{row['state']} {row['error']}"} for row in document["rows"]]
        columns = [ERROR_COLUMNS[0], *ERROR_COLUMNS[2:4], ("status", "Error"), *ERROR_COLUMNS[6:8]]
        render.report_table(f"Entries in error: {len(rows)}", columns, rows, _out())
