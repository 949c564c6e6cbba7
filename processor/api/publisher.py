"""The desk of a server in Kafka mode: commands are published to `licensing.events`, keyed by tenant, and decided by
the Kafka workers; the server reads the database `licensing project` keeps. No decision is known when a command is
answered, so every command's answer is 202; the tenant states live in the workers, not here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TypeVar

from processor.api.desk import Ingested, Line, StateUnavailable
from processor.core.state import TenantState
from processor.kafka.publish import publish_lines

T = TypeVar("T")


class PublishingDesk:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def warm_up(self) -> list[str]:
        return []

    def ingest(self, lines: Iterable[Line]) -> Ingested | None:
        asyncio.run(publish_lines(self.bootstrap, [raw for _, raw in lines]))
        return None

    def submit(self, commands: list[tuple[str, str, Line]]) -> Ingested | None:
        """The workers leave out an id they have decided already (their dedupe window): no look-up here."""
        return self.ingest(line for _, _, line in commands)

    def with_state(self, tenant: str, read: Callable[[TenantState], T]) -> T:
        raise StateUnavailable(
            "This server publishes to Kafka: group membership lives in the workers, not in its read models."
        )

    def close(self) -> None:
        return None
