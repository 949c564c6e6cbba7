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
def serve(
    db: str | None,
    host: str,
    port: int,
    token: str | None,
    read_only: bool,
    max_body_bytes: int,
    bootstrap: str | None,
) -> None:
    """Serve Microsoft Graph v1.0 at /tenants/TENANT/v1.0 and CloudEvents at /events.

    While it runs, the server is the store's writer: commands are logged and decided at once, as `ingest` would.
    Any address but loopback needs --token; Microsoft's SDKs work with the base URL http://HOST:PORT/tenants/TENANT/v1.0.

    \b
    Examples:
      licensing serve --db demo.db
      licensing serve --db demo.db --host 0.0.0.0 --port 8443 --token "$(openssl rand -hex 32)"
      licensing serve --db kafka.db --bootstrap-server 127.0.0.1:9092   # beside `licensing project --db kafka.db`
    """
    from processor.api.server import CannotServe
    from processor.api.server import serve as run_server  # FastAPI and uvicorn load only for this command

    settings = ServeSettings(
        Path(database_path(db)),
        host=host,
        port=port,
        token=token or None,
        read_only=read_only,
        max_body_bytes=max_body_bytes,
        bootstrap=bootstrap,
    )
    try:
        run_server(settings)
    except (UnsafeBind, CannotServe) as exc:
        fail(str(exc))
