"""What `licensing serve` was started with: the store, the address, and the safety switches."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

MAX_BODY_BYTES = 64 * 1024 * 1024  # a CloudEvents batch of ~100,000 events; Graph bodies are far smaller


@dataclass(frozen=True, slots=True)
class ServeSettings:
    database: Path
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None  # every request needs `Authorization: Bearer <token>` when set
    read_only: bool = False  # commands (POST) are refused with 403
    max_body_bytes: int = MAX_BODY_BYTES
    bootstrap: str | None = None  # Kafka mode: serve a projector's database, publish commands to licensing.events


class UnsafeBind(ValueError):
    """A bind address other machines can reach, without a token."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def check_bind(settings: ServeSettings) -> None:
    if not settings.token and not is_loopback(settings.host):
        raise UnsafeBind(
            f"binding {settings.host} lets other machines in: give --token (or $LICENSING_TOKEN), or bind 127.0.0.1"
        )
