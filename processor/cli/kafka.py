"""The Kafka runtime's commands: the dev `broker`, `topics`, `publish`, `worker`, `project` (the projector), `wait`."""

from __future__ import annotations

import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from processor.cli.app import DB_HELP, database_path, fail, main
from processor.cli.database import opened_store
from processor.kafka import DEFAULT_BOOTSTRAP
from processor.terminal import UnreadableInput, check_readable, input_lines

Result = TypeVar("Result")

BOOTSTRAP_OPTION = click.option(
    "--bootstrap-server",
    "bootstrap",
    default=DEFAULT_BOOTSTRAP,
    show_default=True,
    envvar="LICENSING_BOOTSTRAP",
    help="Kafka bootstrap server HOST:PORT ($LICENSING_BOOTSTRAP).",
)


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

    created = run_kafka(create_topics(bootstrap, partitions))
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
    sent = run_kafka(publish_lines(bootstrap, (raw for _, raw in input_lines(files))))
    click.echo(f"published {sent} events", err=True)


@main.command()
@BOOTSTRAP_OPTION
@click.option("--datadir", default=".licensing-worker", show_default=True, help="Faust's data directory.")
@click.option("--session-timeout", default=6.0, show_default=True, help="Consumer group session timeout (s).")
@click.option("--rebalance-timeout", default=6.0, show_default=True, help="Rebalance timeout (s).")
@click.option("--heartbeat-interval", default=1.0, show_default=True, help="Heartbeat interval (s).")
@click.option("--loglevel", default="WARNING", show_default=True)
def worker(
    bootstrap: str,
    datadir: str,
    session_timeout: float,
    rebalance_timeout: float,
    heartbeat_interval: float,
    loglevel: str,
) -> None:
    """Run a Faust worker deciding licensing.events into licensing.decisions."""
    from processor.kafka.worker import WorkerSettings, run_worker

    run_worker(
        WorkerSettings(
            bootstrap,
            datadir=Path(datadir),
            session_timeout=session_timeout,
            rebalance_timeout=rebalance_timeout,
            heartbeat_interval=heartbeat_interval,
            loglevel=loglevel.upper(),
        )
    )


@main.command()
@BOOTSTRAP_OPTION
@click.option("--db", help=DB_HELP)
def project(bootstrap: str, db: str | None) -> None:
    """Run the projector: licensing.decisions into the read models of --db (then `licensing export` works)."""
    import asyncio

    from processor.kafka.projector import Projector

    with opened_store(database_path(db), create=True, write=True) as conn:
        try:
            asyncio.run(Projector(conn, bootstrap).run())
        except KeyboardInterrupt:
            pass


@main.command()
@BOOTSTRAP_OPTION
@click.option("--db", help=DB_HELP)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds before giving up (exit 1).")
def wait(bootstrap: str, db: str | None, timeout: float) -> None:
    """Exit 0 once everything published so far is decided and projected into --db."""
    from processor.kafka.progress import wait_until_projected

    path = database_path(db)
    with opened_store(path, create=True, write=True) as conn:
        if not run_kafka(wait_until_projected(bootstrap, conn, timeout)):
            fail(f"not everything was decided and projected into {path} within {timeout:g} s")


def run_kafka(coroutine: Coroutine[Any, Any, Result]) -> Result:
    """Run a coroutine talking to the broker; a broker not reachable, or refusing, is a one-line failure."""
    import asyncio

    from aiokafka.errors import KafkaError

    try:
        return asyncio.run(coroutine)
    except (KafkaError, OSError) as exc:
        fail(f"Kafka at the bootstrap server is not reachable or refused the request: {exc}")
