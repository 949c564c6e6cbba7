"""Alerts (SPEC §6.1): a POST per new error and per group whose error status changes, to a real HTTP receiver on
127.0.0.1; retried with back-off; a receiver that is down or slow never holds up deciding."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from processor.analysis.alerts import AlertFollower, WebhookSender
from tests.analysis.tenant import LoggedTenant


class Receiver:
    """An HTTP server that records the JSON bodies POSTed to it; the first `failures` requests get `status`."""

    def __init__(self, failures: int = 0, status: int = 503) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts: list[float] = []  # monotonic time of every request, answered or refused
        self.failures = failures
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts.append(time.monotonic())
                if len(receiver.attempts) <= receiver.failures:
                    self.send_response(receiver.status)
                    self.end_headers()
                    return
                receiver.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/licensing-alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def deliver(url: str, alerts: list[dict[str, Any]], **options: Any) -> WebhookSender:
    sender = WebhookSender(url, **options)
    for alert in alerts:
        sender.send(alert)
    assert sender.close(timeout=30)
    return sender


def test_a_new_error_and_the_groups_status_change_reach_the_receiver_with_group_reason_and_fix(
    tmp_path: Path, receiver: Receiver
) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3", name="E3 users")
    t.add("G_E3", "u1", "u2", "u3")
    follower = AlertFollower(t.conn, "contoso")  # from the end of the log: nothing old is alerted
    assert follower.poll() == []

    t.add("G_E3", "u4")  # SPEC S06: no seat left
    caused = t.events[-1]["id"]
    deliver(receiver.url, follower.poll())

    error, group = receiver.bodies
    assert error["type"] == "LicenseErrorRaised"
    assert error["user"] == {"id": "u4", "displayName": "Dave", "userPrincipalName": "dave@contoso.com"}
    assert error["group"] == {"id": "G_E3", "displayName": "E3 users"}
    assert (error["sku"]["skuPartNumber"], error["state"], error["error"]) == (
        "ENTERPRISEPACK",
        "Error",
        "CountViolation",
    )
    assert error["reason"] == "no ENTERPRISEPACK seat available"
    assert error["suggestedFix"].startswith("Buy more ENTERPRISEPACK seats")
    assert error["causedBy"] == {"id": caused, "type": "GroupMemberAdded", "source": "/test"}
    assert (group["type"], group["hasMembersWithLicenseErrors"], group["errors"]) == (
        "GroupErrorStatusChanged",
        True,
        {"CountViolation": 1},
    )
    assert group["suggestedFix"] == error["suggestedFix"]

    t.remove("G_E3", "u4")  # SPEC S13: the group is clear again; no error is new
    deliver(receiver.url, follower.poll())
    assert [(b["type"], b.get("hasMembersWithLicenseErrors")) for b in receiver.bodies[2:]] == [
        ("GroupErrorStatusChanged", False)
    ]


def test_an_error_that_changes_code_is_new_and_one_that_stays_is_not(tmp_path: Path, receiver: Receiver) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.capacity("EMS", 0)
    t.group("G_E3EMS", "E3", "EMS")
    follower = AlertFollower(t.conn)
    t.add("G_E3EMS", "u1")  # EMS CountViolation, E3 Other
    t.reprocess_user("u1")  # the same errors again: no alert
    t.assign("G_E3EMS", add=[("E3", ["SWAY"])])  # the E3 entry changes (Sway off) but keeps its error: no alert
    assert t.entry_states()[("u1", "ENTERPRISEPACK", "G_E3EMS")] == ("Error", "Other")
    t.capacity("E3", 0)
    t.reprocess_user("u1")  # E3 now lacks a seat of its own: Other becomes CountViolation, a new error
    alerts = follower.poll()
    assert [(a["type"], a.get("sku", {}).get("skuPartNumber"), a.get("error")) for a in alerts] == [
        ("LicenseErrorRaised", "EMS", "CountViolation"),
        ("LicenseErrorRaised", "ENTERPRISEPACK", "Other"),
        ("GroupErrorStatusChanged", None, None),
        ("LicenseErrorRaised", "ENTERPRISEPACK", "CountViolation"),
    ]


def test_a_delivery_is_retried_with_growing_pauses_until_the_receiver_answers(tmp_path: Path) -> None:
    flaky = Receiver(failures=3)
    try:
        sender = deliver(flaky.url, [{"type": "Test", "n": 1}], first_delay=0.1, max_delay=1.0)
    finally:
        flaky.close()
    assert flaky.bodies == [{"type": "Test", "n": 1}] and (sender.delivered, sender.given_up) == (1, 0)
    pauses = [later - earlier for earlier, later in zip(flaky.attempts, flaky.attempts[1:])]
    assert len(pauses) == 3
    assert pauses[0] >= 0.1 and pauses[1] >= 0.2 and pauses[2] >= 0.4


def test_a_refusal_is_not_retried(tmp_path: Path) -> None:
    refusing = Receiver(failures=10, status=400)
    given_up: list[str] = []
    try:
        sender = deliver(
            refusing.url, [{"type": "Test"}], first_delay=0.01, on_give_up=lambda a, why: given_up.append(why)
        )
    finally:
        refusing.close()
    assert len(refusing.attempts) == 1 and given_up == ["HTTP 400"] and sender.given_up == 1


def test_a_receiver_that_is_down_never_holds_up_deciding(tmp_path: Path, receiver: Receiver) -> None:
    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    follower = AlertFollower(t.conn, "contoso")
    given_up = threading.Event()
    down = WebhookSender(
        f"http://127.0.0.1:{unused_port()}/", attempts=4, first_delay=0.5, on_give_up=lambda a, why: given_up.set()
    )
    t.add("G_E3", "u1", "u2", "u3", "u4")

    started = time.monotonic()
    for alert in follower.poll():
        down.send(alert)
    t.add("G_E3", "u5")  # deciding goes on while the sender waits between tries
    later = follower.poll()
    assert time.monotonic() - started < 1.0 and not given_up.is_set()

    assert [a["user"]["id"] for a in later if a["type"] == "LicenseErrorRaised"] == ["u5"]
    assert given_up.wait(timeout=30)
    down.close(timeout=30)
    assert down.delivered == 0


def test_alerts_from_the_start_of_the_log_through_the_command_line(tmp_path: Path, receiver: Receiver) -> None:
    import subprocess
    import sys

    t = LoggedTenant(tmp_path / "t.db")
    t.group("G_E3", "E3")
    t.add("G_E3", "u1", "u2", "u3", "u4", "u5")
    t.conn.close()
    licensing = Path(sys.executable).parent / "licensing"
    result = subprocess.run(
        [str(licensing), "alerts", "--webhook", receiver.url, "--from-start", "--once", "--db", str(t.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert [(b["type"], b.get("user", {}).get("id")) for b in receiver.bodies] == [
        ("LicenseErrorRaised", "u4"),
        ("GroupErrorStatusChanged", None),
        ("LicenseErrorRaised", "u5"),
    ]
    assert "3 queued, 3 delivered, 0 given up" in result.stderr
