"""Running the application under uvicorn, after the checks that would otherwise fail inside it with a traceback: the
bind address's safety, the port being free, the database being openable."""

from __future__ import annotations

import socket
import sqlite3

import uvicorn

from processor.api.app import create_app
from processor.api.settings import ServeSettings, check_bind
from processor.embedded.database import open_database


class CannotServe(RuntimeError):
    """A one-line reason the server cannot start."""


def serve(settings: ServeSettings) -> None:
    """Serve until interrupted; raises UnsafeBind or CannotServe before binding anything."""
    check_bind(settings)
    _check_port(settings.host, settings.port)
    try:
        open_database(settings.database).close()  # created if new, as `licensing ingest` would
    except (sqlite3.Error, OSError) as exc:
        raise CannotServe(f"cannot open the database {settings.database}: {exc}") from None
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


def _check_port(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CannotServe(f"cannot bind {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CannotServe(f"cannot bind {host}:{port}: {exc.strerror}") from None
