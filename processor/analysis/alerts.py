"""Alerts (SPEC §6.1): a webhook POST per new licence error and per group whose error status changes, naming the
responsible group, the reason and the suggested fix, so that nobody learns of an error from a user who cannot work.

`AlertFollower` follows the log: it decides every event appended after its start with the core, on its own copy
of the tenants' states, which gives exactly the outputs the runtime logged, and turns them into alerts
(`alerts_of`). `WebhookSender` delivers them from a thread of its own, in order, each retried with exponential
back-off; `send` only queues, so neither the follower nor any runtime ever waits for a receiver. A new error is an
entry that enters Error or ActiveWithError, or changes error code while in one.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from events import parse_event
from events.inputs import InputEvent
from processor.analysis.lookup import group_label, readable_detail, user_label
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant
from processor.core.outputs import Output
from processor.core.state import ERROR_STATES, TenantState
from processor.embedded import eventlog
from processor.embedded.database import open_database
from processor.embedded.runtime import EmbeddedRuntime

Alert = dict[str, Any]
log = logging.getLogger("licensing.alerts")


def alerts_of(state: TenantState, event: InputEvent, outputs: list[Output]) -> list[Alert]:
    """The alerts of one decided event: its new errors, then its groups' error status changes."""
    cause = {"id": event.id, "type": event.type, "source": event.source}
    alerts = []
    for kind, data in outputs:
        if kind == "LicenseAssignmentStateChanged" and _new_error(data):
            detail = data["errorDetail"] or {}
            reason, fix = readable_detail(detail, lambda user_id: user_label(state, user_id))
            user = state.users.get(data["userId"])
            group_id = data["assignedByGroup"]
            alerts.append(
                {
                    "type": "LicenseErrorRaised",
                    "tenant": state.tenant_id,
                    "time": event.time,
                    "causedBy": cause,
                    "user": {
                        "id": data["userId"],
                        "displayName": user.display_name if user is not None else None,
                        "userPrincipalName": user.upn if user is not None else None,
                    },
                    "sku": {"skuId": data["skuId"], "skuPartNumber": data["skuPartNumber"]},
                    "group": None
                    if group_id is None
                    else {"id": group_id, "displayName": group_label(state, group_id)},
                    "state": data["state"],
                    "error": data["error"],
                    "reason": reason,
                    "message": detail.get("message"),
                    "suggestedFix": fix,
                }
            )
        elif kind == "GroupErrorStatusChanged":
            alerts.append(_group_alert(state, event, cause, data["groupId"], data["hasMembersWithLicenseErrors"]))
    return alerts


def _new_error(data: dict[str, Any]) -> bool:
    if data["state"] not in ERROR_STATES:
        return False
    return data["previousState"] not in ERROR_STATES or data["previousError"] != data["error"]


def _group_alert(
    state: TenantState, event: InputEvent, cause: dict[str, str], group_id: str, has_errors: bool
) -> Alert:
    """A group's error status change, with what its members' errors are and the fix of the commonest one."""
    group = state.groups.get(group_id)
    members = sorted(group.errors) if group is not None else []
    codes: Counter[str] = Counter()
    fixes: dict[str, tuple[str | None, str | None]] = {}
    for user_id in members:
        for (_, source), entry in state.users[user_id].entries.items():
            if source == group_id and entry.state in ERROR_STATES:
                codes[entry.error] += 1
                fixes.setdefault(entry.error, readable_detail(entry.detail or {}, lambda u: user_label(state, u)))
    commonest = codes.most_common(1)[0][0] if codes else None
    reason, fix = fixes.get(commonest, (None, None)) if commonest else (None, None)
    return {
        "type": "GroupErrorStatusChanged",
        "tenant": state.tenant_id,
        "time": event.time,
        "causedBy": cause,
        "group": {"id": group_id, "displayName": group_label(state, group_id)},
        "hasMembersWithLicenseErrors": has_errors,
        "membersWithLicenseErrors": len(members),
        "errors": dict(sorted(codes.items())),
        "reason": reason,
        "suggestedFix": fix,
    }


class AlertFollower:
    """Turns the events appended to the log into alerts, from the end of the log (or its start) on."""

    def __init__(self, conn: sqlite3.Connection, tenant_id: str | None = None, from_start: bool = False) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.states: dict[str, TenantState] = {}
        self.position = 0  # the last log seq decided
        if from_start:
            return
        runtime = EmbeddedRuntime(conn)  # (before the read transaction: an old database is rebuilt on opening)
        conn.execute("BEGIN")  # one snapshot of the database: the states cover exactly the log up to `position`
        try:
            self.position = eventlog.last_seq(conn)
            for (tenant,) in conn.execute("SELECT tenant FROM tenants ORDER BY tenant").fetchall():
                if tenant_id is None or tenant == tenant_id:
                    self.states[tenant] = runtime.tenant(tenant)
        finally:
            conn.execute("COMMIT")

    def poll(self) -> list[Alert]:
        """The alerts of the events logged since the last poll."""
        alerts: list[Alert] = []
        for seq, raw in eventlog.lines(self.conn, after=self.position):
            self.position = seq
            event = parse_event(raw)
            if self.tenant_id is not None and event.tenant != self.tenant_id:
                continue
            state = self.states.get(event.tenant)
            if state is None:
                state = self.states[event.tenant] = new_tenant(event.tenant, shipped_catalog())
            _, outputs = decide_changes(state, event)
            alerts += alerts_of(state, event, outputs)
        return alerts


class WebhookSender:
    """POSTs alerts as JSON to a URL from a thread of its own, in order; each is retried with exponential back-off
    (first_delay, doubling up to max_delay) on a network error, a 5xx or a 429, and given up after `attempts`
    tries or at once on another 4xx (`on_give_up` is told why)."""

    def __init__(
        self,
        url: str,
        attempts: int = 6,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        timeout: float = 10.0,
        on_give_up: Callable[[Alert, str], None] | None = None,
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.on_give_up = on_give_up
        self.delivered = 0
        self.given_up = 0
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def send(self, alert: Alert) -> None:
        """Queue the alert; never waits for the receiver."""
        self._queue.put(alert)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver what is queued (retries included) within `timeout` seconds, then stop; whether all went out."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._stopping.set()  # cut the back-off short: what is left is given up
            self._thread.join()
            return False
        return True

    def _run(self) -> None:
        while (alert := self._queue.get()) is not None:
            self._deliver(alert)

    def _deliver(self, alert: Alert) -> None:
        body = json.dumps(alert).encode()
        delay = self.first_delay
        why = ""
        for attempt in range(1, self.attempts + 1):
            if self._stopping.is_set():
                why = "stopped before it could be delivered"
                break
            request = urllib.request.Request(
                self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout):
                    self.delivered += 1
                    return
            except urllib.error.HTTPError as exc:
                why = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code != 429:
                    break  # the receiver refuses this alert: retrying will not change its mind
            except (urllib.error.URLError, OSError) as exc:
                why = str(getattr(exc, "reason", exc))
            if attempt < self.attempts:
                self._stopping.wait(delay)
                delay = min(delay * 2, self.max_delay)
        self.given_up += 1
        if self.on_give_up is not None:
            self.on_give_up(alert, why)


class AlertService:
    """`licensing serve --webhook`: a thread following the store's log (its own connection) and sending every alert,
    beside the server's writer; the writer never waits for it, nor for the receiver."""

    def __init__(
        self,
        database: Path,
        url: str,
        interval: float = 0.5,
        on_give_up: Callable[[Alert, str], None] | None = None,
    ) -> None:
        self.database = database
        self.interval = interval
        self.sender = WebhookSender(url, on_give_up=on_give_up)
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="alert-follower", daemon=True)

    def start(self) -> None:
        """Follow from the end of the log as it is now (returns once that position is taken)."""
        self._thread.start()
        self._started.wait()

    def stop(self, timeout: float | None = None) -> None:
        """Stop following, then deliver what is queued within `timeout` seconds."""
        self._stopping.set()
        self._thread.join()
        self.sender.close(timeout)

    def _follow(self) -> None:
        conn = open_database(self.database)
        try:
            follower = AlertFollower(conn)
            self._started.set()
            while not self._stopping.is_set():
                try:
                    for alert in follower.poll():
                        self.sender.send(alert)
                except sqlite3.OperationalError as exc:  # e.g. locked past the busy timeout: look again later
                    log.warning("alerts: could not read the log (%s); trying again", exc)
                self._stopping.wait(self.interval)
        finally:
            self._started.set()
            conn.close()
