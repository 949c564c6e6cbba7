"""`licensing demo`: a generated tenant, ingested into the embedded store, shown the way an admin needs it.

Everything is named as the admin center names it (`Names`), no cell is cut short (long text wraps within the
terminal's width), a table showing examples says how to see every row, and the suggested commands run as printed
(`Hints`). The events are ingested from memory: nothing but the database (and the events file, if asked for) is
written.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from processor.demo.generator import generate_demo_events, write_jsonl
from processor.demo.hints import Hints
from processor.demo.labels import ISSUE_LABELS
from processor.demo.names import Names
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.terminal import progress_bar

PER_ERROR_KIND = 2  # examples of every kind of problem in a group, rather than many of one
REJECTIONS = 12


def run_demo(db: Path, users: int, seed: int, events_file: Path | None, every_row: bool = False) -> None:
    out = Console(highlight=False)
    events = generate_demo_events(seed=seed, users=users)
    tenant = events[0]["tenant"]
    if events_file is not None:
        write_jsonl(events, events_file)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = open_database(db)
    try:
        started = time.perf_counter()
        with progress_bar() as bar:
            task = bar.add_task("ingesting", total=len(events), rate="")
            summary = EmbeddedRuntime(conn).ingest(_lines(events), progress=lambda n: bar.advance(task, n))
        elapsed = time.perf_counter() - started
        out.print(
            f"[bold]Tenant {tenant}[/]: {len(events):,} events decided in {elapsed:.1f} s "
            f"({len(events) / elapsed:,.0f} events/s)"
        )
        out.print(Text(summary.line()))
        report = Report(out, conn, tenant, Names.of_tenant(conn, tenant), Hints(db, tenant, users, seed), every_row)
        report.product_usage()
        report.groups_needing_attention()
        report.rejections()
        out.print("\n[bold]Explore further[/]")
        for command, what in report.hints.explore(as_of=events[len(events) // 2]["time"]):
            out.print(Text(f"  {what}:"))
            out.print(Text(f"    {command}"), soft_wrap=True)  # one line, to copy whole, however wide
        if events_file is not None:
            out.print(Text(f"  the events: {events_file}"), soft_wrap=True)
    finally:
        conn.close()


def _lines(events: list[dict[str, Any]]) -> Iterator[tuple[str, bytes]]:
    """The events as the lines of an events file (`write_jsonl`), without writing one."""
    for number, event in enumerate(events, 1):
        yield f"demo:{number}", json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


class Report:
    def __init__(
        self, out: Console, conn: sqlite3.Connection, tenant: str, names: Names, hints: Hints, every_row: bool
    ) -> None:
        self.out, self.conn, self.tenant, self.names, self.hints, self.every_row = (
            out,
            conn,
            tenant,
            names,
            hints,
            every_row,
        )

    def product_usage(self) -> None:
        table = Table(title="Product usage", title_justify="left")
        for column in ("Product", "Status", "Total", "Assigned", "Available"):
            table.add_column(column, justify="left" if column in ("Product", "Status") else "right", overflow="fold")
        for part, status, enabled, warning, consumed, available, over in self.conn.execute(
            "SELECT sku_part_number, capability_status, enabled, warning, consumed, available, over_assigned "
            "FROM product_usage WHERE tenant = ? ORDER BY sku_part_number",
            (self.tenant,),
        ):
            assigned = Text(str(consumed)).append(" (over-assigned)" if over else "", style="red")
            table.add_row(Text(part), Text(status), str(enabled + warning), assigned, str(available))
        self.out.print(table)

    def groups_needing_attention(self) -> None:
        rows = self.conn.execute(
            "SELECT e.group_id, e.user_id, e.sku_part_number, e.state, e.error, e.reason, e.suggested_fix "
            "FROM group_member_errors e "
            "LEFT JOIN groups g ON g.tenant = e.tenant AND g.group_id = e.group_id "
            "LEFT JOIN users u ON u.tenant = e.tenant AND u.user_id = e.user_id "
            "WHERE e.tenant = ? ORDER BY g.display_name, e.group_id, e.error, u.display_name, e.user_id",
            (self.tenant,),
        ).fetchall()
        by_group: dict[str, list[tuple[str, ...]]] = {}
        for row in rows:
            by_group.setdefault(row[0], []).append(row)
        self.out.print(f"\n[bold]Groups that need attention[/]: {len(by_group)}")
        for group_id, members in by_group.items():
            users = len({member[1] for member in members})
            table = Table(title=Text(f"{self.names.of(group_id)} — {users} user(s) in error"), title_justify="left")
            for column, ratio in (
                ("User", None),
                ("Product", None),
                ("Issue", None),
                ("Reason", 2),
                ("Suggested fix", 3),
            ):
                table.add_column(column, overflow="fold", ratio=ratio)
            shown: dict[str, int] = {}
            for _, user_id, part, state, error, reason, fix in members:
                shown[error] = shown.get(error, 0) + 1
                if shown[error] > PER_ERROR_KIND and not self.every_row:
                    continue
                issue = ISSUE_LABELS.get(error, error) + (" (still applied)" if state == "ActiveWithError" else "")
                reason, fix = self.names.in_text(reason or ""), self.names.in_text(fix or "")
                table.add_row(*cells(self.names.of(user_id), part, issue, reason, fix))
            self.out.print(table)
            self._rest(sum(max(0, n - PER_ERROR_KIND) for n in shown.values()) if not self.every_row else 0)

    def rejections(self) -> None:
        rows = self.conn.execute(
            "SELECT event_id, type, target, error, message FROM rejected_commands WHERE tenant = ? ORDER BY position",
            (self.tenant,),
        ).fetchall()
        table = Table(title=f"Rejected commands: {len(rows)}", title_justify="left")
        for column, ratio in (("Event", None), ("Command", None), ("Target", None), ("Error", None), ("Message", 1)):
            table.add_column(column, overflow="fold", ratio=ratio)
        shown = rows if self.every_row else rows[:REJECTIONS]
        for event_id, command, target, error, message in shown:
            table.add_row(*cells(event_id, command, self.names.of(target or ""), error, self.names.in_text(message)))
        self.out.print(table)
        self._rest(len(rows) - len(shown))

    def _rest(self, hidden: int) -> None:
        """Say how many rows a table left out, and how to see them."""
        if hidden:
            self.out.print(Text(f"  … {hidden} more: `{self.hints.every_row()}` shows every row"), soft_wrap=True)


def cells(*values: str) -> list[Text]:
    """Table cells showing the values as they are (a str would be read as markup: "[EXCHANGE_S_STANDARD]" is a tag)."""
    return [Text(value) for value in values]
