"""The dashboard's pages served by the real `licensing serve` on the demo tenant, read over HTTP: names instead of
GUIDs, paging without overlap, one-line answers to what cannot be shown, and charts equal to the export."""

from __future__ import annotations

import html
import re
import time
from html.parser import HTMLParser
from typing import Any

import httpx

from processor.api.dashboard.names import GUID
from tests.api.conftest import TENANT, Server, export

IN_ERROR = ("Error", "ActiveWithError")


class Cells(HTMLParser):
    """The text of the table cells with a given class, and every href, of a page."""

    def __init__(self, cell_class: str) -> None:
        super().__init__()
        self.cell_class, self.cells, self.links = cell_class, [], []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])
        if self._depth:
            self._depth += 1
        elif self.cell_class in (found.get("class") or "").split():
            self._depth = 1
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.cells[-1] += data


def cells(html: str, cell_class: str) -> Cells:
    parser = Cells(cell_class)
    parser.feed(html)
    return parser


def get(client: httpx.Client, path: str) -> httpx.Response:
    answer = client.get(path)
    assert answer.headers["content-type"].startswith(("text/html", "application/json")), path
    return answer


def groups_in_error(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for g in document["groups"] if g["membersWithLicenseErrors"]]


def test_group_pages_show_every_user_in_error_with_names_not_guids(demo_server: Server) -> None:
    document = export(demo_server.db)
    with demo_server.client() as client:
        for group in groups_in_error(document):
            page = get(client, f"/tenants/{TENANT}/groups/{group['id']}")
            assert page.status_code == 200
            shown = set(re.findall(r'data-user-id="([^"]+)"', page.text))
            assert shown == set(group["membersWithLicenseErrors"])
            for cell_class in ("reason", "message", "fix"):
                texts = cells(page.text, cell_class).cells
                assert texts and all(t.strip() for t in texts), (
                    f"{group['displayName']}: every row has its {cell_class}"
                )
                assert not [t for t in texts if GUID.search(t)], f"{group['displayName']}: a GUID in a {cell_class}"


def test_the_overview_lists_the_groups_that_need_attention_and_the_products(demo_server: Server) -> None:
    document = export(demo_server.db)
    with demo_server.client() as client:
        page = get(client, f"/tenants/{TENANT}/")
    assert page.status_code == 200
    listed = re.findall(r'<tr class="attention" data-group-id="([^"]+)"', page.text)
    expected = sorted(groups_in_error(document), key=lambda g: (-len(g["membersWithLicenseErrors"]), g["id"]))
    assert listed == [g["id"] for g in expected]
    for sku in document["subscribedSkus"]:
        assert f'data-sku-id="{sku["skuId"]}" data-available="{sku["availableUnits"]}"' in page.text


def test_the_audit_log_pages_newest_first_without_overlap(demo_server: Server) -> None:
    rows: list[int] = []
    times: list[str] = []
    with demo_server.client() as client:
        path: str | None = f"/tenants/{TENANT}/audit"
        for _ in range(4):
            assert path is not None, "the demo tenant's audit log has more than four pages"
            page = get(client, path)
            assert page.status_code == 200
            rows += [int(row) for row in re.findall(r'<tr data-row="(\d+)">', page.text)]
            times += cells(page.text, "when").cells
            older = [link for link in cells(page.text, "none").links if "before=" in link]
            path = f"/tenants/{TENANT}/audit{html.unescape(older[-1])}" if older else None
    assert len(rows) == 4 * 50 == len(set(rows)) == len(times)
    assert rows == sorted(rows, reverse=True) and times == sorted(times, reverse=True), "newest first, no overlap"


def test_what_cannot_be_shown_is_a_one_line_page_with_its_status(demo_server: Server) -> None:
    with demo_server.client() as client:
        for path, status, says in [
            ("/tenants/nowhere/", 404, "There is no tenant 'nowhere' in this store."),
            (f"/tenants/{TENANT}/groups/no-such-group", 404, "There is no group 'no-such-group'"),
            (f"/tenants/{TENANT}/users/no-such-user", 404, "There is no user 'no-such-user'"),
            (f"/tenants/{TENANT}/audit?before=yesterday", 400, "'before' must be a whole number"),
            (f"/tenants/{TENANT}/dashboard/series", 400, "Ask for one chart"),
        ]:
            answer = get(client, path)
            assert answer.status_code == status, path
            assert says in html.unescape(answer.text), path
            assert "Traceback" not in answer.text


def test_the_user_page_shows_each_source_and_its_latest_change(demo_server: Server) -> None:
    document = export(demo_server.db)
    holders = [u for u in document["users"] if len(u["licenseAssignmentStates"]) >= 2 and not u["deleted"]][:5]
    assert holders
    with demo_server.client() as client:
        for user in holders:
            page = get(client, f"/tenants/{TENANT}/users/{user['id']}")
            assert page.status_code == 200
            for state in user["licenseAssignmentStates"]:
                group = state["assignedByGroup"]
                assert (
                    (f'/tenants/{TENANT}/groups/{group}"' in page.text) if group else ("<td>Direct</td>" in page.text)
                )
            assert "History" in page.text and "No licence change yet" not in page.text


def series(client: httpx.Client, **which: str) -> dict[str, Any]:
    for _ in range(100):  # the log is read in the background at the first request
        answer = client.get(f"/tenants/{TENANT}/dashboard/series", params=which)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["ready"]:
            return body
        time.sleep(0.1)
    raise AssertionError("the history was not read within 10 s")


def test_the_charts_end_where_the_export_stands(demo_server: Server) -> None:
    document = export(demo_server.db)
    with demo_server.client() as client:
        for sku in document["subscribedSkus"]:
            chart = series(client, product=sku["skuId"])
            consumed, prepaid = (line["values"] for line in chart["series"])
            units = sku["prepaidUnits"]
            assert (consumed[-1], prepaid[-1]) == (sku["consumedUnits"], units["enabled"] + units["warning"])
            assert chart["days"] == sorted(chart["days"]) and len(chart["x"]) == len(chart["days"])
        in_error = {
            u["id"]
            for u in document["users"]
            if not u["deleted"] and any(s["state"] in IN_ERROR for s in u["licenseAssignmentStates"])
        }
        (tenant_wide,) = series(client, group="*")["series"]
        assert tenant_wide["values"][-1] == len(in_error)
        for group in groups_in_error(document):
            (line,) = series(client, group=group["id"])["series"]
            assert line["values"][-1] == len(group["membersWithLicenseErrors"])
