"""The analyst's tools as extensions of `licensing serve` (a real server on 127.0.0.1): the same documents as the
commands, nothing written by what-if and the fix plan, and `serve --webhook` alerts to a real receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from processor.analysis.explain import explain
from processor.analysis.timeline import timeline
from processor.analysis.whatif import what_if
from tests.analysis.tenant import SKU_ID, LoggedTenant, cloud_event, with_problems
from tests.analysis.test_alerts import Receiver
from tests.api.conftest import Server, licensing, start_server, stop_server


def contoso(path: Path) -> LoggedTenant:
    """The CLI tests' tenant (a clash, a seat shortage and a stuck licence), and Frank in a kiosk group (E1)."""
    t = with_problems(path)
    t.group("G_K", "E1", name="Kiosk")
    t.add("G_K", "u6")
    return t


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LoggedTenant, Server]]:
    t = contoso(tmp_path / "t.db")
    server = start_server(t.path)
    yield t, server
    stop_server(server)


def get(server: Server, path: str, **params: str) -> httpx.Response:
    with server.client() as client:
        return client.get(f"/tenants/contoso/v1.0{path}", params=params)


def post(server: Server, path: str, content: bytes, content_type: str = "application/json") -> httpx.Response:
    with server.client() as client:
        return client.post(f"/tenants/contoso/v1.0{path}", content=content, headers={"Content-Type": content_type})


def test_explain_and_timelines_answer_the_commands_documents(served: tuple[LoggedTenant, Server]) -> None:
    t, server = served
    by_principal = get(server, "/users/alice@contoso.com/licensing.explain", skuId="ENTERPRISEPACK")
    assert by_principal.status_code == 200
    assert by_principal.json() == explain(t.conn, "contoso", "u1", "ENTERPRISEPACK")
    assert get(server, "/users/u4/licensing.timeline").json() == timeline(t.conn, "contoso", user_id="u4")
    assert get(server, "/groups/G_E3/licensing.timeline").json() == timeline(t.conn, "contoso", group_id="G_E3")


def test_unknown_names_are_graph_errors(served: tuple[LoggedTenant, Server]) -> None:
    _, server = served
    missing = get(server, "/users/nobody/licensing.explain")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
    product = get(server, "/users/u1/licensing.explain", skuId="NOPE")
    assert product.status_code == 400 and "unknown product 'NOPE'" in product.json()["error"]["message"]
    assert get(server, "/groups/nothing/licensing.timeline").status_code == 404
    assert get(server, "/licensing.fixPlan", time="yesterday").status_code == 400
    with server.client() as client:
        assert client.get("/tenants/fabrikam/v1.0/licensing.fixPlan").status_code == 404


def test_what_if_of_posted_events_is_the_prediction_and_writes_nothing(served: tuple[LoggedTenant, Server]) -> None:
    t, server = served
    before = t.export()
    events = [
        cloud_event("contoso", 500, "SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 4}}),
        cloud_event("contoso", 501, "LicenseReprocessRequested", {"groupId": "G_E3"}),
    ]
    body = b"\n".join(json.dumps(e).encode() for e in events)

    answer = post(server, "/licensing.whatIf", body, "application/x-ndjson")

    assert answer.status_code == 200
    expected = what_if(t.conn, "contoso", [(f"what-if #{n}", json.dumps(e).encode()) for n, e in enumerate(events, 1)])
    assert answer.json() == expected
    assert {(e["userId"], e["after"]["state"]) for e in expected["licenseAssignmentStates"]} == {("u5", "Active")}
    assert t.export() == before
    assert post(server, "/licensing.whatIf", b"{}", "text/plain").status_code == 415


def test_a_swap_dry_run_then_the_fix_plan_whose_events_posted_clear_every_error(
    served: tuple[LoggedTenant, Server],
) -> None:
    t, server = served
    swap = {"addLicenses": [{"skuId": SKU_ID["E3"], "disabledPlans": []}], "removeLicenses": [SKU_ID["E1"]]}
    predicted = post(server, "/groups/G_K/licensing.whatIfAssignLicense", json.dumps(swap).encode()).json()
    after = {(e["userId"], e["skuPartNumber"]): e["after"] for e in predicted["licenseAssignmentStates"]}
    assert after[("u6", "STANDARDPACK")] is None  # the swap would take Frank's E1 away
    assert (after[("u6", "ENTERPRISEPACK")]["state"], after[("u6", "ENTERPRISEPACK")]["error"]) == (
        "Error",
        "CountViolation",  # and no E3 seat is free for it
    )

    plan = get(server, "/licensing.fixPlan", time="2026-02-01T09:00:00Z").json()
    assert (plan["errorsBefore"], plan["errorsAfter"]) == (3, 0)
    assert t.errors() == {
        ("u1", "ENTERPRISEPACK", "G_E3"),
        ("u5", "ENTERPRISEPACK", "G_E3"),
        ("u4", "ENTERPRISEPACK", "G_E3"),
    }
    with server.client() as client:
        posted = client.post("/events", json=plan["events"])
    assert posted.status_code == 200 and posted.json()["accepted"] == len(plan["events"])
    assert t.errors() == set()


def test_serve_with_a_webhook_posts_alerts_of_the_commands_it_decides(tmp_path: Path) -> None:
    t = contoso(tmp_path / "t.db")
    receiver = Receiver()
    server = start_server(t.path, "--webhook", receiver.url)
    try:
        with server.client() as client:
            joined = cloud_event("contoso", 600, "GroupMemberAdded", {"groupId": "G_E3", "memberId": "u6"})
            assert client.post("/events", json=[joined]).json()["accepted"] == 1
        deadline = time.monotonic() + 30
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_server(server)
        receiver.close()
    (alert,) = receiver.bodies
    assert (alert["type"], alert["user"]["id"], alert["error"], alert["group"]["displayName"]) == (
        "LicenseErrorRaised",
        "u6",
        "MutuallyExclusiveViolation",  # Frank's E1 from the Kiosk group clashes with E3
        "E3 users",
    )


@pytest.mark.parametrize(
    "args, mention",
    [
        (("--webhook", "ftp://x"), "is not an http(s) URL"),
        (("--webhook", "http://127.0.0.1:9/", "--bootstrap-server", "127.0.0.1:9092"), "in Kafka mode"),
    ],
)
def test_serve_refuses_a_webhook_it_cannot_serve_in_one_line(
    tmp_path: Path, args: tuple[str, ...], mention: str
) -> None:
    result = licensing("serve", "--db", str(tmp_path / "t.db"), "--port", "0", *args)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and mention in result.stderr
