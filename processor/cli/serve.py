"""`licensing serve`: Microsoft Graph v1.0 and CloudEvents over HTTP, the single writer of the embedded store."""

from __future__ import annotations

from pathlib import Path

import click

from processor.api.settings import MAX_BODY_BYTES, ServeSettings, UnsafeBind
from processor.cli.app import DB_HELP, database_path, fail, main


@main.command()
@click.option("--db", help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; any but loopback needs --token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to bind.")
@click.option(
    "--token",
    envvar="LICENSING_TOKEN",
    help="Every request must carry `Authorization: Bearer TOKEN` ($LICENSING_TOKEN).",
)
@click.option("--read-only", is_flag=True, help="Refuse every command (POST) with 403.")
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=MAX_BODY_BYTES,
    show_default=True,
    help="Larger request bodies are refused with 413.",
)
@click.option(
    "--bootstrap-server",
    "bootstrap",
    help="Kafka mode: serve the database of `licensing project` and publish commands to licensing.events at "
    "HOST:PORT (their answers are 202: the workers decide them).",
)
@click.option(
    "--webhook",
    help="POST an alert per new licence error and per group whose error status changes to this URL "
    "(as `licensing alerts` does; retried with back-off, never holding up a command).",
)
def serve(
    db: str | None,
    host: str,
    port: int,
    token: str | None,
    read_only: bool,
    max_body_bytes: int,
    bootstrap: str | None,
    webhook: str | None,
) -> None:
    """Serve Microsoft Graph v1.0 at /tenants/TENANT/v1.0 and CloudEvents at /events.

    While it runs, the server is the store's writer: commands are logged and decided at once, as `ingest` would.
    Any address but loopback needs --token; Microsoft's SDKs work with the base URL http://HOST:PORT/tenants/TENANT/v1.0.

    \b
    Examples:
      licensing serve --db demo.db
      licensing serve --db demo.db --host 0.0.0.0 --port 8443 --token "$(openssl rand -hex 32)"
      licensing serve --db kafka.db --bootstrap-server 127.0.0.1:9092   # beside `licensing project --db kafka.db`
      licensing serve --db demo.db --webhook http://127.0.0.1:8080/licensing-alerts
    """
    from processor.api.server import CannotServe
    from processor.api.server import serve as run_server  # FastAPI and uvicorn load only for this command

    if webhook is not None and not webhook.startswith(("http://", "https://")):
        fail(f"--webhook {webhook!r} is not an http(s) URL")
    if webhook is not None and bootstrap is not None:
        fail("--webhook follows the embedded log; in Kafka mode the log is on the broker")
    settings = ServeSettings(
        Path(database_path(db)),
        host=host,
        port=port,
        token=token or None,
        read_only=read_only,
        max_body_bytes=max_body_bytes,
        bootstrap=bootstrap,
        webhook=webhook,
    )
    try:
        run_server(settings)
    except (UnsafeBind, CannotServe) as exc:
        fail(str(exc))
