"""`licensing verify`: check every block of the embedded log for damage, changing nothing."""

from __future__ import annotations

import sys

import click

from processor.cli.app import DB_HELP, database_path, fail, main
from processor.embedded import eventlog
from processor.embedded.database import close_database, open_database
from processor.embedded.errors import StoreError
from processor.embedded.verify import verify_log
from processor.terminal import progress_bar


@main.command()
@click.option("--db", help=DB_HELP)
def verify(db: str | None) -> None:
    """Check every block of the event and decisions logs: digests, checksums, the tenant index.

    \b
    Lists each damaged block; exit status 1 if there is one, 0 when all are intact.
    Example: licensing verify --db tenant.db
    """
    try:
        conn = open_database(database_path(db), read_only=True)
        try:
            with progress_bar() as bar:
                task = bar.add_task("verifying", total=eventlog.count(conn), rate="")
                check = verify_log(conn, progress=lambda n: bar.advance(task, n))
        finally:
            close_database(conn)
    except StoreError as exc:
        fail(str(exc))
    for damage in check.damaged:
        click.echo(f"damaged: {damage.block}: {damage.why}")
    click.echo(check.line())
    sys.exit(1 if check.damaged else 0)
