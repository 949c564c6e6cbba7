"""`licensing snapshot`, `licensing import graph` and `licensing conformance`: a real tenant's Microsoft Graph
snapshot in, and our decisions checked against what Entra shows."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from processor.cli.app import DB_HELP, database_path, fail, main
from processor.embedded.database import open_database
from processor.graphsync.conformance import CLASSES, conformance_report
from processor.graphsync.importer import import_snapshot
from processor.graphsync.snapshot import SnapshotError, is_time
from processor.terminal import progress_bar
from projections.export import UnknownTenant

SHOWN = 40  # differences the table lists; --json gives them all


@main.command()
@click.option(
    "--base-url",
    default="https://graph.microsoft.com/v1.0",
    show_default=True,
    help="Graph v1.0 endpoint: Microsoft Graph, or `licensing serve`'s http://HOST:PORT/tenants/T/v1.0.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Snapshot folder to create.")
@click.option(
    "--token",
    envvar="LICENSING_GRAPH_TOKEN",
    help="Bearer token with User.Read.All, Group.Read.All, Organization.Read.All ($LICENSING_GRAPH_TOKEN).",
)
def snapshot(base_url: str, out: str, token: str | None) -> None:
    """Write a snapshot folder of a tenant from a Graph endpoint (read-only requests).

    \b
    Examples:
      licensing snapshot --out contoso-snapshot --token "$(az account get-access-token \\
          --resource https://graph.microsoft.com --query accessToken -o tsv)"
      licensing snapshot --base-url http://127.0.0.1:8000/tenants/contoso/v1.0 --out served
    """
    from processor.graphsync.graph_client import GraphUnavailable, write_snapshot  # msgraph-sdk loads slowly

    with progress_bar() as bar:
        tasks: dict[str, Any] = {}

        def progress(what: str, done: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total, rate="")
            bar.update(tasks[what], completed=done, total=total)

        try:
            counts = write_snapshot(base_url, out, token, progress)
        except GraphUnavailable as exc:
            fail(str(exc))
    listed = ", ".join(f"{count} in {name}" for name, count in counts.items())
    click.echo(f"wrote snapshot {out}: {listed}", err=True)


@main.group("import")
def import_group() -> None:
    """Import a tenant from another system into the log."""


@import_group.command("graph")
@click.argument("folder", type=click.Path())
@click.option("--tenant", required=True, help="Tenant id to import into.")
@click.option("--db", help=DB_HELP)
@click.option("--skip-unknown", is_flag=True, help="Leave out SKUs and plans the catalogue does not know.")
@click.option(
    "--time", "time", help="RFC 3339 time of the snapshot (default: its snapshot.json, else its newest entry)."
)
def import_graph(folder: str, tenant: str, db: str | None, skip_unknown: bool, time: str | None) -> None:
    """Turn a Graph snapshot folder into input events and decide them.

    \b
    A tenant new to the database is rebuilt so that its licence states come out as the snapshot shows them; a
    tenant already there receives only the differences (memberships, licences, profiles), so importing the same
    snapshot twice changes nothing and a newer one extends the tenant's history.
    Example: licensing import graph contoso-snapshot --tenant contoso --db contoso.db
    """
    if time is not None and not is_time(time):
        fail(f"--time {time!r} is not an RFC 3339 time with an offset, e.g. 2026-03-01T00:00:00Z")
    conn = open_database(database_path(db))
    with progress_bar() as bar:
        task = bar.add_task("importing", total=None, rate="")
        try:
            result = import_snapshot(conn, folder, tenant, skip_unknown, time, lambda n: bar.advance(task, n))
        except SnapshotError as exc:
            fail(str(exc))
    for notice in result.notices:
        click.echo(notice, err=True)
    what = "rebuilt the tenant" if result.first else "appended the differences"
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(result.counts.items())) or "none"
    click.echo(f"imported {folder} into {tenant}: {what}, {result.events} events ({kinds})", err=True)
    click.echo(result.summary.line(), err=True)


@main.command()
@click.argument("folder", type=click.Path())
@click.option("--tenant", required=True, help="Tenant id in the database.")
@click.option("--db", help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the differences and totals as JSON.")
def conformance(folder: str, tenant: str, db: str | None, as_json: bool) -> None:
    """Compare our licence states with the ones a Graph snapshot shows; exit 1 when they differ.

    \b
    Example: licensing conformance contoso-snapshot --tenant contoso --db contoso.db --json
    """
    try:
        conn = open_database(database_path(db), create=False)
        report = conformance_report(conn, tenant, folder)
    except (FileNotFoundError, SnapshotError, UnknownTenant) as exc:
        click.echo(f"licensing: {exc.args[0] if exc.args else exc}", err=True)
        sys.exit(2)  # 1 means "differences"
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _show(report)
    sys.exit(1 if report["differences"] else 0)


def _show(report: dict[str, Any]) -> None:
    out = Console(width=200)
    differences, totals = report["differences"], report["totals"]
    if differences:
        table = Table(title=f"Differences: {len(differences)}", title_justify="left")
        for column in ("User", "SKU", "Source", "Class", "Ours", "Entra", "Why"):
            table.add_column(column, overflow="fold", ratio=3 if column == "Why" else 1)
        for d in differences[:SHOWN]:
            table.add_row(
                d["userId"], d["skuId"], d["assignedByGroup"] or "direct", d["class"],
                _side(d["ours"]), _side(d["entra"]), d["why"] or "",
            )  # fmt: skip
        if len(differences) > SHOWN:
            table.add_row(f"… {len(differences) - SHOWN} more (--json lists all)", "", "", "", "", "", "")
        out.print(table)
    summary = Table(title="Totals per class", title_justify="left")
    summary.add_column("Class")
    summary.add_column("Entries", justify="right")
    for kind in CLASSES:
        summary.add_row(kind, str(totals["byClass"][kind]))
    out.print(summary)
    if totals["byGroup"]:
        groups = Table(title="Totals per group", title_justify="left")
        groups.add_column("Group")
        groups.add_column("Entries", justify="right")
        for group, count in totals["byGroup"].items():
            groups.add_row(group, str(count))
        out.print(groups)
    entries = totals["entries"]
    out.print(
        f"{totals['users']} users, {entries['ours']} entries ours, {entries['entra']} Entra's: "
        f"{totals['differences']} differences"
    )


def _side(side: dict[str, Any] | None) -> str:
    if side is None:
        return "—"
    plans = f", {len(side['disabledPlans'])} plans off" if side["disabledPlans"] else ""
    return f"{side['state']}/{side['error']}{plans}"
