"""`licensing demo`: a generated tenant, ingested and shown the way an admin needs it."""

from __future__ import annotations

from pathlib import Path

import click

from processor.cli.app import database_path, fail, main
from processor.cli.database import check_database


@main.command()
@click.option("--db", default="demo.db", show_default=True, help="SQLite store to (re)create.")
@click.option("--users", default=3000, show_default=True, help="Users in the generated tenant.")
@click.option("--seed", default=7, show_default=True, help="Generator seed (same seed, same tenant).")
@click.option("--events-file", type=click.Path(dir_okay=False), help="Also write the generated events here.")
@click.option("--all", "every_row", is_flag=True, help="Show every row of every table, not a few examples.")
def demo(db: str, users: int, seed: int, events_file: str | None, every_row: bool) -> None:
    """Generate a realistic tenant, ingest it, and show product usage and the groups that need attention."""
    from processor.demo.generator import MIN_USERS
    from processor.demo.report import run_demo

    if users < MIN_USERS:
        fail(f"--users: the demo tenant needs at least {MIN_USERS} users")
    check_database(database_path(db), create=True, write=True)  # (never deletes a file that is not a database)
    run_demo(Path(db), users, seed, Path(events_file) if events_file else None, every_row)
