"""Graph's licence actions as commands: the request's command decided at once, a refusal answered as Graph does."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from processor.api.commands import Outcome, command, event_id_for, submit
from processor.api.graph.errors import refused
from processor.api.services import Services


def submit_or_refuse(request: Request, store: Services, tenant: str, event_type: str, data: dict[str, Any]) -> Outcome:
    """Submit the request's command (its client-request-id as event id); a refusal by the rules is a 400."""
    (outcome,) = submit(store, [command(tenant, event_type, data, event_id_for(request))])
    if outcome.rejection is not None:
        raise refused(outcome.rejection.error, outcome.rejection.message, outcome.rejection.detail)
    return outcome
