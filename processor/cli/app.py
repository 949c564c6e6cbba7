"""The `licensing` command line (CONTRACT §5): embedded ingest/export/replay, the demo, and the Kafka runtime."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from processor.embedded import eventlog
from processor.embedded.asof import state_as_of
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime
from processor.kafka import DEFAULT_BOOTSTRAP
from processor.terminal import UnreadableInput, check_readable, count_lines, input_lines, progress_bar
from projections.export import UnknownTenant, tenant_document

DB_HELP = "SQLite store (default: $LICENSING_DB, else ./licensing.db)."


def database_path(db: str | None) -> str:
    return db or os.environ.get("LICENSING_DB") or "licensing.db"


def fail(message: str) -> None:
    click.echo(f"licensing: {message}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Event-sourced group-based licensing processor.

    \b
    Examples:
      licensing demo
      licensing ingest events.jsonl --db tenant.db
      licensing export --tenant contoso --db tenant.db > contoso.json
      licensing export --tenant contoso --as-of 2026-03-01T00:00:00Z
      licensing replay --db tenant.db
    """


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--db", help=DB_HELP)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Events per transaction (default 100,000): smaller loses less work to a crash and holds less memory "
    "(~2.7 KB per event, two batches at a time), larger ingests faster.",
)
def ingest(files: tuple[str, ...], db: str | None, batch_size: int | None) -> None:
    """Append JSON Lines event files ('-' = stdin) to the log and decide them.

    \b
    Ingesting the same file again changes nothing (event ids are deduplicated).
    Example: licensing ingest day1.jsonl day2.jsonl --db tenant.db
    """
    try:
        check_readable(files)
    except UnreadableInput as exc:
        fail(str(exc))
    conn = open_database(database_path(db))
    runtime = EmbeddedRuntime(conn)
    with progress_bar() as bar:
        task = bar.add_task("ingesting", total=count_lines(files), rate="")
        summary = runtime.ingest(input_lines(files), progress=lambda n: bar.advance(task, n), batch_size=batch_size)
    for reason in summary.reasons:
        click.echo(f"dead-lettered {reason}", err=True)
    click.echo(summary.line(), err=True)


@main.command()
@click.option("--tenant", required=True, help="Tenant (directory) id.")
@click.option("--db", help=DB_HELP)
@click.option("--as-of", "as_of", help="RFC 3339 time: the state after every event whose time <= TIME.")
def export(tenant: str, db: str | None, as_of: str | None) -> None:
    """Print the tenant's state document (CONTRACT §6) as JSON.

    \b
    Example: licensing export --tenant contoso --as-of 2026-03-01T00:00:00Z
    """
    try:
        conn = open_database(database_path(db), create=False)
        if as_of is not None:
            conn = state_as_of(conn, tenant, as_of)
        document = tenant_document(conn, tenant)
    except (FileNotFoundError, UnknownTenant, ValueError) as exc:
        fail(exc.args[0] if exc.args else str(exc))
    click.echo(json.dumps(document, indent=2))


@main.command()
@click.option("--db", help=DB_HELP)
def replay(db: str | None) -> None:
    """Rebuild all tenant states and read models from the event log."""
    try:
        conn = open_database(database_path(db), create=False)
    except FileNotFoundError as exc:
        fail(str(exc))
    total = eventlog.count(conn)
    runtime = EmbeddedRuntime(conn)
    with progress_bar() as bar:
        task = bar.add_task("replaying", total=total, rate="")
        count = runtime.replay(progress=lambda n: bar.advance(task, n))
    click.echo(f"replayed {count} events", err=True)


@main.command()
@click.option("--db", default="demo.db", show_default=True, help="SQLite store to (re)create.")
@click.option("--users", default=3000, show_default=True, help="Users in the generated tenant.")
@click.option("--seed", default=7, show_default=True, help="Generator seed (same seed, same tenant).")
@click.option("--events-file", type=click.Path(dir_okay=False), help="Also write the generated events here.")
def demo(db: str, users: int, seed: int, events_file: str | None) -> None:
    """Generate a realistic tenant, ingest it, and show product usage and the groups that need attention."""
    from processor.demo.report import run_demo

    run_demo(Path(db), users, seed, Path(events_file) if events_file else None)


# ---- Kafka runtime ----------------------------------------------------------------------------------------------

BOOTSTRAP_OPTION = click.option(
    "--bootstrap-server",
    "bootstrap",
    default=DEFAULT_BOOTSTRAP,
    show_default=True,
    envvar="LICENSING_BOOTSTRAP",
    help="Kafka bootstrap server HOST:PORT ($LICENSING_BOOTSTRAP).",
)


METRICS_OPTION = click.option(
    "--metrics-address",
    "metrics_address",
    default=None,
    envvar="LICENSING_METRICS_ADDRESS",
    help="Serve /metrics (Prometheus), /ready and /live on HOST:PORT (':PORT' = every interface; "
    "$LICENSING_METRICS_ADDRESS). Default: not served.",
)


def _check_metrics_address(address: str | None) -> None:
    from processor.kafka.metrics import parse_address

    if address:
        try:
            parse_address(address)
        except ValueError as exc:
            fail(str(exc))


@main.command()
@click.option("--port", default=9092, show_default=True, help="Port on 127.0.0.1.")
def broker(port: int) -> None:
    """Run the dev broker (Tansu, a Kafka-compatible broker, not Apache Kafka) on 127.0.0.1 in the foreground.

    \b
    Memory-only storage: everything is gone when it stops. Needs the dev extra.
    Example: licensing broker --port 9092
    """
    from processor.kafka.broker import BrokerUnavailable, broker_command

    try:
        command = broker_command(port)
    except BrokerUnavailable as exc:
        fail(str(exc))
    os.execv(command[0], command)


@main.command()
@BOOTSTRAP_OPTION
@click.option("--partitions", default=4, show_default=True, help="Partitions per topic.")
def topics(bootstrap: str, partitions: int) -> None:
    """Create licensing.events, licensing.decisions and licensing.dead-letter (idempotent)."""
    from processor.kafka.admin import create_topics

    created = _run_kafka(create_topics(bootstrap, partitions))
    click.echo(f"created {', '.join(created) if created else 'nothing (all topics exist)'}", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True)
@BOOTSTRAP_OPTION
def publish(files: tuple[str, ...], bootstrap: str) -> None:
    """Publish JSON Lines files ('-' = stdin) to licensing.events, keyed by tenant."""
    from processor.kafka.publish import publish_lines

    try:
        check_readable(files)
    except UnreadableInput as exc:
        fail(str(exc))
    sent = _run_kafka(publish_lines(bootstrap, (raw for _, raw in input_lines(files))))
    click.echo(f"published {sent} events", err=True)


@main.command()
@BOOTSTRAP_OPTION
@click.option("--datadir", default=".licensing-worker", show_default=True, help="Faust's data directory.")
@click.option("--session-timeout", default=6.0, show_default=True, help="Consumer group session timeout (s).")
@click.option("--rebalance-timeout", default=6.0, show_default=True, help="Rebalance timeout (s).")
@click.option("--heartbeat-interval", default=1.0, show_default=True, help="Heartbeat interval (s).")
@click.option("--loglevel", default="WARNING", show_default=True)
@METRICS_OPTION
def worker(
    bootstrap: str,
    datadir: str,
    session_timeout: float,
    rebalance_timeout: float,
    heartbeat_interval: float,
    loglevel: str,
    metrics_address: str | None,
) -> None:
    """Run a Faust worker deciding licensing.events into licensing.decisions.

    \b
    Partition snapshots are kept in DATADIR/snapshots (one file per partition).
    Example: licensing worker --metrics-address 127.0.0.1:9464
    """
    from processor.kafka.worker import WorkerSettings, run_worker

    _check_metrics_address(metrics_address)
    run_worker(
        WorkerSettings(
            bootstrap,
            datadir=Path(datadir),
            session_timeout=session_timeout,
            rebalance_timeout=rebalance_timeout,
            heartbeat_interval=heartbeat_interval,
            loglevel=loglevel.upper(),
            metrics_address=metrics_address,
        )
    )


@main.command()
@BOOTSTRAP_OPTION
@click.option("--db", help=DB_HELP)
@METRICS_OPTION
def project(bootstrap: str, db: str | None, metrics_address: str | None) -> None:
    """Run the projector: licensing.decisions into the read models of --db (then `licensing export` works)."""
    from processor.kafka.projector import run_projector

    _check_metrics_address(metrics_address)
    run_projector(open_database(database_path(db)), bootstrap, metrics_address)


@main.command()
@BOOTSTRAP_OPTION
@click.option("--db", help=DB_HELP)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds before giving up (exit 1).")
def wait(bootstrap: str, db: str | None, timeout: float) -> None:
    """Exit 0 once everything published so far is decided and projected into --db."""
    from processor.kafka.progress import wait_until_projected

    path = database_path(db)
    if not _run_kafka(wait_until_projected(bootstrap, open_database(path), timeout)):
        fail(f"not everything was decided and projected into {path} within {timeout:g} s")


def _run_kafka(coroutine: Any) -> Any:
    import asyncio

    from aiokafka.errors import KafkaError

    try:
        return asyncio.run(coroutine)
    except (KafkaError, OSError) as exc:
        fail(f"Kafka at the bootstrap server is not reachable or refused the request: {exc}")
