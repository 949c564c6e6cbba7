"""A real browser on the demo tenant: an admin finds a group that needs attention, reads each user's reason and fix,
buys seats (an event posted to /events), presses Reprocess, and watches the errors clear without reloading."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page

from tests.api.conftest import TENANT, Server, demo_database, start_server, stop_server


def subscription_raised(server: Server, part_number: str, more: int) -> dict[str, Any]:
    """A SubscriptionChanged event giving the product `more` prepaid seats than Graph says it has now."""
    with server.client() as client:
        skus = client.get(f"/tenants/{TENANT}/v1.0/subscribedSkus").json()["value"]
    sku = next(s for s in skus if s["skuPartNumber"] == part_number)
    units = {**sku["prepaidUnits"], "enabled": sku["prepaidUnits"]["enabled"] + more}
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/billing",
        "type": "SubscriptionChanged",
        "time": "2026-02-01T09:00:00Z",
        "tenant": TENANT,
        "data": {"skuId": part_number, "prepaidUnits": units},
    }


def open_group_short_of_seats(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    page.get_by_role("link", name=TENANT, exact=True).click()
    page.wait_for_selector("#attention tr.attention")
    short = page.locator('#attention tr.attention[data-top-error="CountViolation"]').first
    assert short.count() == 1, "the demo tenant has a group whose top reason is a shortage of seats"
    short.get_by_role("link").click()
    page.wait_for_selector("#errors tr.error-row")


def test_reprocess_after_buying_seats_clears_the_errors_without_reloading(
    own_server: Server, browser: BrowserContext
) -> None:
    page = browser.new_page()
    open_group_short_of_seats(page, own_server)

    rows = page.locator("#errors tr.error-row")
    users = set()
    for n in range(rows.count()):
        row = rows.nth(n)
        users.add(row.get_attribute("data-user-id"))
        assert row.locator(".reason").inner_text().strip(), "every user in error has a reason"
        assert row.locator(".fix").inner_text().strip(), "every user in error has a suggested fix"
    assert int(page.locator("#in-error-count").get_attribute("data-count") or 0) == len(users)
    short_of = {
        rows.nth(n).get_attribute("data-sku")
        for n in range(rows.count())
        if rows.nth(n).get_attribute("data-error") == "CountViolation"
    }
    assert short_of

    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    events = [subscription_raised(own_server, str(part), len(users)) for part in sorted(short_of)]
    with own_server.client() as client:
        answer = client.post("/events", json=events, headers={"Content-Type": "application/cloudevents-batch+json"})
    assert answer.status_code == 200 and answer.json()["accepted"] == len(events), answer.text

    page.get_by_role("button", name="Reprocess group").click()
    page.wait_for_selector("#no-errors")
    assert page.locator("#errors tr.error-row").count() == 0
    assert page.locator("#in-error-count").get_attribute("data-count") == "0"
    assert page.evaluate("window.sameDocument === true"), "the errors cleared without a reload"


def test_a_browser_signs_in_to_a_token_protected_server_and_reprocesses_from_its_pages(
    browser: BrowserContext, tmp_path: Path, demo_events_file: Path
) -> None:
    """Off loopback a server asks for its token: the browser is sent to the sign-in form, and once signed in the
    dashboard works as on loopback, its Reprocess button (a POST from the page) included."""
    token = "correct-horse-battery-staple"
    server = start_server(demo_database(tmp_path, demo_events_file), "--token", token, token=token)
    try:
        page = browser.new_page()
        page.goto(server.url + f"/tenants/{TENANT}/")
        assert page.url.startswith(server.url + "/login"), page.url
        page.get_by_label("Token").fill("not-the-token")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text().strip()
        page.get_by_label("Token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("#attention tr.attention")
        assert page.url == server.url + f"/tenants/{TENANT}/", "back where the browser was going"

        page.locator("#attention tr.attention").first.get_by_role("link").click()
        page.wait_for_selector("#errors tr.error-row")
        with page.expect_response(lambda answer: answer.request.method == "POST") as answered:
            page.get_by_role("button", name="Reprocess group").click()
        assert answered.value.status < 300, answered.value.status
    finally:
        stop_server(server)
