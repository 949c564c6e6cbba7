"""schemathesis, driven by the server's own OpenAPI document, against a running `licensing serve`: with a bounded number
of generated requests per operation, no answer is a 5xx and none breaks the schema the document gives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import TENANT, Server, demo_database, export, start_server, stop_server

EXAMPLES = 25  # per operation: ~500 requests in all, about half a minute here
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory, demo_events_file: Path) -> Iterator[Server]:
    """A server of its own: the fuzzer's commands change its database."""
    server = start_server(demo_database(tmp_path_factory.mktemp("fuzzed"), demo_events_file))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def known_ids(fuzzed_server: Server) -> dict[str, list[str]]:
    """Ids that exist, so that generated requests reach answers other than 404 (one unknown id stays in each)."""
    document = export(fuzzed_server.db)
    users = [u["id"] for u in document["users"] if not u["deleted"]]
    return {
        "tenant": [TENANT, TENANT, TENANT, "no-such-tenant"],
        "user_id": users[:20] + ["no-such-user"],
        "group_id": [g["id"] for g in document["groups"]] + ["no-such-group"],
    }


def test_no_server_error_and_every_answer_in_its_schema(fuzzed_server: Server, known_ids: dict[str, list[str]]) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15  # every Graph route, the extensions and /events
    for operation in operations:
        fuzz_operation(operation, known_ids)


def fuzz_operation(operation: Any, known_ids: dict[str, list[str]]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_within_schema(case: Any) -> None:
        for name, ids in known_ids.items():
            if case.path_parameters and name in case.path_parameters:
                generated = str(case.path_parameters[name])
                case.path_parameters[name] = ids[sum(map(ord, generated)) % len(ids)]
        case.call_and_validate(checks=CHECKS)

    answers_within_schema()
