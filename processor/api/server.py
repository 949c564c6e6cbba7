"""Running the application under uvicorn, after the safety checks of the bind address."""

from __future__ import annotations

import uvicorn

from processor.api.app import create_app
from processor.api.settings import ServeSettings, check_bind


def serve(settings: ServeSettings) -> None:
    """Serve until interrupted; raises UnsafeBind before binding anything."""
    check_bind(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
