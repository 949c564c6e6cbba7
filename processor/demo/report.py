"""`licensing demo`: a generated tenant, ingested into the embedded store, shown the way an admin needs it."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from processor.core.messages import ISSUE_LABELS
from processor.demo.generator import generate_demo_events, write_jsonl
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.terminal import input_lines, progress_bar

out = Console(width=160)
PER_ERROR_KIND = 2


def run_demo(db: Path, users: int, seed: int, events_file: Path | None) -> None:

    events = generate_demo_events(seed=seed, users=users)
    tenant = events[0]["tenant"]
    path = events_file or Path(tempfile.mkdtemp()) / "demo-events.jsonl"
    write_jsonl(events, path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = open_database(db)
    runtime = EmbeddedRuntime(conn)
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("ingesting", total=len(events), rate="")
        summary = runtime.ingest(input_lines((str(path),)), progress=lambda n: bar.advance(task, n))
    elapsed = time.perf_counter() - started
    out.print(
        f"[bold]Tenant {tenant}[/]: {len(events):,} events decided in {elapsed:.1f} s "
        f"({len(events) / elapsed:,.0f} events/s) — {summary.line()}"
    )
    show_product_usage(conn, tenant)
    show_groups_needing_attention(conn, tenant)
    show_rejections(conn, tenant)
    out.print("\n[bold]Explore further[/]")
    out.print(f"  licensing export --tenant {tenant} --db {db}            # the full state document (JSON)")
    out.print(f"  licensing export --tenant {tenant} --db {db} --as-of 2026-01-05T09:00:00Z   # time travel")
    out.print(f"  licensing replay --db {db}                              # rebuild everything from the log")
    out.print(f"  sqlite-utils tables {db} --counts                      # the read models")
    for hint in analyst_hints(conn, tenant, db):
        out.print(f"  {hint}")
    out.print(f"  events file: {path}")


def analyst_hints(conn: sqlite3.Connection, tenant: str, db: Path) -> list[str]:
    """The analyst's commands on this tenant, for a user in error (named by userPrincipalName: display names repeat)."""
    row = conn.execute(
        "SELECT u.user_principal_name FROM group_member_errors e JOIN users u ON u.tenant = e.tenant "
        "AND u.user_id = e.user_id WHERE e.tenant = ? AND u.user_principal_name IS NOT NULL "
        "ORDER BY e.error, u.user_principal_name LIMIT 1",
        (tenant,),
    ).fetchone()
    hints = []
    if row is not None:
        hints += [
            f"licensing explain --tenant {tenant} --db {db} --user {row[0]}    # why, plan by plan",
            f"licensing timeline --tenant {tenant} --db {db} --user {row[0]}   # every change, with its cause",
        ]
    return hints + [
        f"licensing report errors --tenant {tenant} --db {db}               # one row per error",
        f"licensing fix-plan --tenant {tenant} --db {db} --out fixes.jsonl  # what clears every error",
        f"licensing what-if --tenant {tenant} --db {db} fixes.jsonl         # its effect; nothing written",
    ]


def show_product_usage(conn: sqlite3.Connection, tenant: str) -> None:
    table = Table(title="Product usage", title_justify="left")
    for column in ("Product", "Status", "Total", "Assigned", "Available"):
        table.add_column(column, justify="left" if column in ("Product", "Status") else "right")
    for part, status, enabled, warning, consumed, available, over in conn.execute(
        "SELECT sku_part_number, capability_status, enabled, warning, consumed, available, over_assigned "
        "FROM product_usage WHERE tenant = ? ORDER BY sku_part_number",
        (tenant,),
    ):
        flag = " [red](over-assigned)[/]" if over else ""
        table.add_row(part, status, str(enabled + warning), f"{consumed}{flag}", str(available))
    out.print(table)


def show_groups_needing_attention(conn: sqlite3.Connection, tenant: str) -> None:
    rows = conn.execute(
        "SELECT e.group_id, g.display_name, coalesce(u.display_name, e.user_id), e.sku_part_number, e.state, "
        "e.error, e.reason, e.suggested_fix FROM group_member_errors e "
        "LEFT JOIN groups g ON g.tenant = e.tenant AND g.group_id = e.group_id "
        "LEFT JOIN users u ON u.tenant = e.tenant AND u.user_id = e.user_id "
        "WHERE e.tenant = ? ORDER BY g.display_name, e.error, u.display_name",
        (tenant,),
    ).fetchall()
    by_group: dict[str, list[tuple[str, ...]]] = {}
    for row in rows:
        by_group.setdefault(row[0], []).append(row)
    out.print(f"\n[bold]Groups that need attention[/]: {len(by_group)}")
    for group_id, members in by_group.items():
        users = len({m[2] for m in members})
        table = Table(title=f"{members[0][1] or group_id} — {users} user(s) in error", title_justify="left")
        table.add_column("User", max_width=22)
        table.add_column("Product", max_width=20)
        table.add_column("Issue", max_width=26)
        table.add_column("Reason", overflow="fold", ratio=2)
        table.add_column("Suggested fix", overflow="fold", ratio=3)
        shown: dict[str, int] = {}
        for _, _, user, part, state, error, reason, fix in members:
            shown[error] = shown.get(error, 0) + 1
            if shown[error] > PER_ERROR_KIND:
                continue  # a few examples of every kind of problem rather than many of one
            issue = ISSUE_LABELS.get(error, error) + (" (still applied)" if state == "ActiveWithError" else "")
            table.add_row(user, part, issue, reason or "", fix or "")
        hidden = sum(max(0, n - PER_ERROR_KIND) for n in shown.values())
        if hidden:
            table.add_row(f"… {hidden} more", "", "", "", "")
        out.print(table)


def show_rejections(conn: sqlite3.Connection, tenant: str) -> None:
    rows = conn.execute(
        "SELECT event_id, type, target, error, message FROM rejected_commands WHERE tenant = ? ORDER BY position",
        (tenant,),
    ).fetchall()
    table = Table(title=f"Rejected commands: {len(rows)}", title_justify="left")
    for column in ("Event", "Command", "Target", "Error"):
        table.add_column(column, overflow="fold")
    table.add_column("Message", overflow="fold", ratio=3)
    for row in rows[:12]:
        table.add_row(*[str(v) for v in row])
    out.print(table)
