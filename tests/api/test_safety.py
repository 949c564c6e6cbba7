"""Safety of `licensing serve`: loopback unless a token is given, the token on every request, read-only mode, the
body size limit, and bad requests answered with a one-line Graph error that changes nothing."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from tests.api.conftest import (
    LICENSING,
    TENANT,
    Server,
    clean_env,
    demo_database,
    export,
    free_port,
    start_server,
    stop_server,
)
from tests.api.graph_client import graph_client

TOKEN = "correct-horse-battery-staple"


def test_a_bind_other_machines_reach_needs_a_token(tmp_path: Path, demo_events_file: Path) -> None:
    db = demo_database(tmp_path, demo_events_file)
    result = subprocess.run(
        [str(LICENSING), "serve", "--db", str(db), "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "0.0.0.0" in message and "--token" in message


@pytest.mark.parametrize("given_by", ["option", "environment"])
async def test_with_a_token_every_request_needs_it(given_by: str, tmp_path: Path, demo_events_file: Path) -> None:
    db = demo_database(tmp_path, demo_events_file)
    if given_by == "option":
        server = start_server(db, "--token", TOKEN, token=TOKEN)
    else:
        server = start_server(db, env=clean_env(LICENSING_TOKEN=TOKEN), token=TOKEN)
    try:
        with httpx.Client(base_url=server.url) as anonymous:
            for path in (f"/tenants/{TENANT}/v1.0/users", "/openapi.json"):
                missing = anonymous.get(path)
                wrong = anonymous.get(path, headers={"Authorization": "Bearer not-the-token"})
                for answer in (missing, wrong):
                    assert answer.status_code == 401
                    assert answer.headers["www-authenticate"].startswith("Bearer")
                    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"
            refused = anonymous.post("/events", content=b"{}", headers={"content-type": "application/json"})
            assert refused.status_code == 401
        with server.client() as client:
            assert client.get(f"/tenants/{TENANT}/v1.0/users").status_code == 200
        skus = (await graph_client(server.graph(), token=TOKEN).subscribed_skus.get()).value
        assert {s.sku_part_number for s in skus} == {s["skuPartNumber"] for s in export(db)["subscribedSkus"]}
        with pytest.raises(ODataError) as refused_sdk:
            await graph_client(server.graph(), token="wrong").subscribed_skus.get()
        assert refused_sdk.value.response_status_code == 401
    finally:
        stop_server(server)


def test_a_browser_signs_in_once_with_the_token_and_then_uses_the_dashboard(
    tmp_path: Path, demo_events_file: Path
) -> None:
    """A token-protected server: a browser is sent to /login, types the token once, and browses with a session
    cookie; the cookie is not the token, carries commands only from the server's own pages, and never leads off
    the server. Scripts without a header still get Graph's 401."""
    db = demo_database(tmp_path, demo_events_file)
    server = start_server(db, "--token", TOKEN, token=TOKEN)
    page = {"Accept": "text/html"}
    try:
        with httpx.Client(base_url=server.url) as browser:
            sent_away = browser.get(f"/tenants/{TENANT}/", headers=page)
            assert sent_away.status_code == 303
            assert sent_away.headers["location"] == f"/login?next=%2Ftenants%2F{TENANT}%2F"
            form = browser.get(sent_away.headers["location"])
            assert form.status_code == 200 and 'name="token"' in form.text and f"/tenants/{TENANT}/" in form.text
            assert browser.get("/dashboard/static/dashboard.css").status_code == 200  # the form's own style

            wrong = browser.post("/login", data={"token": "not-the-token", "next": f"/tenants/{TENANT}/"})
            assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
            assert browser.get(f"/tenants/{TENANT}/", headers=page).status_code == 303  # still not signed in

            signed_in = browser.post("/login", data={"token": TOKEN, "next": f"/tenants/{TENANT}/"})
            assert signed_in.status_code == 303 and signed_in.headers["location"] == f"/tenants/{TENANT}/"
            cookie = signed_in.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
            overview = browser.get(f"/tenants/{TENANT}/", headers=page)
            assert overview.status_code == 200 and "<html" in overview.text
            assert browser.get(f"/tenants/{TENANT}/v1.0/users").status_code == 200

            user = next(u for u in export(db)["users"] if not u["deleted"])
            reprocess = f"/tenants/{TENANT}/v1.0/users/{user['id']}/reprocessLicenseAssignment"
            assert browser.post(reprocess).status_code == 401  # no Origin: not one of the server's pages
            assert browser.post(reprocess, headers={"Origin": "http://evil.example"}).status_code == 401
            assert browser.post(reprocess, headers={"Origin": server.url}).status_code < 300

            off_site = browser.post("/login", data={"token": TOKEN, "next": "//evil.example/"})
            assert off_site.headers["location"] == "/"
            signed_out = browser.get("/logout")
            assert signed_out.status_code == 303 and "Max-Age=0" in signed_out.headers["set-cookie"]
            assert browser.get(f"/tenants/{TENANT}/", headers=page).status_code == 303
        with httpx.Client(base_url=server.url) as script:
            assert script.get(f"/tenants/{TENANT}/v1.0/users").status_code == 401
            forged = script.get(f"/tenants/{TENANT}/v1.0/users", headers={"Cookie": f"licensing_session={TOKEN}"})
            assert forged.status_code == 401
    finally:
        stop_server(server)


def test_read_only_refuses_commands(tmp_path: Path, demo_events_file: Path) -> None:
    db = demo_database(tmp_path, demo_events_file)
    before = export(db)
    user = next(u for u in before["users"] if not u["deleted"])
    server = start_server(db, "--read-only")
    try:
        with server.client() as client:
            graph = f"/tenants/{TENANT}/v1.0"
            assert client.get(f"{graph}/users/{user['id']}").status_code == 200
            body = {"addLicenses": [], "removeLicenses": []}
            commands = [
                client.post(f"{graph}/users/{user['id']}/assignLicense", json=body),
                client.post(f"{graph}/users/{user['id']}/reprocessLicenseAssignment"),
                client.post("/events", content=demo_line(), headers={"content-type": "application/cloudevents+json"}),
            ]
    finally:
        stop_server(server)
    for answer in commands:
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
    assert export(db) == before


def demo_line() -> bytes:
    return (
        b'{"specversion":"1.0","id":"read-only-1","source":"/hr","type":"UserCreated",'
        b'"time":"2026-02-01T00:00:00Z","tenant":"contoso","data":{"userId":"new-user"}}'
    )


def test_a_body_over_the_limit_is_refused_and_changes_nothing(tmp_path: Path, demo_events_file: Path) -> None:
    db = demo_database(tmp_path, demo_events_file)
    before = export(db)
    server = start_server(db, "--max-body-bytes", "1000")
    try:
        with server.client() as client:
            lines = demo_events_file.read_bytes().splitlines()[:50]
            too_big = client.post(
                "/events", content=b"\n".join(lines), headers={"content-type": "application/x-ndjson"}
            )

            def chunks() -> object:
                yield from lines

            streamed = client.post("/events", content=chunks(), headers={"content-type": "application/x-ndjson"})
            small = client.post("/events", content=lines[0], headers={"content-type": "application/cloudevents+json"})
    finally:
        stop_server(server)
    for answer in (too_big, streamed):  # one declares its length, the other is chunked
        assert answer.status_code == 413
        assert answer.json()["error"]["message"] == "The request body is larger than 1,000 bytes."
    assert small.status_code == 200 and small.json()["duplicates"] == 1
    assert export(db) == before


BAD_REQUESTS = [
    ("GET", "/users?$filter=startswith(mail,'a')", 400, "Invalid filter clause"),
    ("GET", "/users?$filter=assignedLicenses/$count%20eq%200", 400, "Unsupported Query."),
    ("GET", "/users?$top=0", 400, "Invalid page size"),
    ("GET", "/users?$top=many", 400, "Invalid page size"),
    ("GET", "/users?$count=true", 400, "$count is not currently supported."),
    ("GET", "/users?$select=password", 400, "Could not find a property named 'password'"),
    ("GET", "/users?$skiptoken=%%%", 400, "'$skiptoken' is invalid"),
    ("GET", "/users?$skiptoken=WzEsImEiXQ", 400, "'$skiptoken' is invalid"),  # an audit log's token
    ("GET", "/users/no-such-user", 404, "Resource 'no-such-user' does not exist"),
    ("GET", "/groups/no-such-group/membersWithLicenseErrors", 404, "Resource 'no-such-group' does not exist"),
    ("GET", "/devices", 400, "Resource not found for the segment 'devices'."),
    ("GET", "/users/{user}/photos", 400, "Resource not found for the segment 'photos'."),
    ("POST", "/users/{user}/assignLicense", 400, "The request body is not valid JSON."),
    ("POST", "/users/{user}/assignLicense {}", 400, "Invalid value specified for property 'addLicenses'"),
    ("POST", '/users/{user}/assignLicense {"addLicenses": []}', 400, "'removeLicenses'"),
    ("POST", '/users/{user}/assignLicense {"addLicenses": [{"skuId": 7}], "removeLicenses": []}', 400, "skuId"),
    ("POST", '/users/{user}/assignLicense {"addLicenses": [{"skuId": "NOPE"}], "removeLicenses": []}', 400, "NOPE"),
    ("DELETE", "/users/{user}", 405, "Method Not Allowed"),
]


def test_bad_requests_get_a_one_line_graph_error_and_change_nothing(own_server: Server) -> None:
    before = export(own_server.db)
    user = next(u["id"] for u in before["users"] if not u["deleted"])
    with own_server.client() as client:
        for method, request, status, says in BAD_REQUESTS:
            path, _, body = request.partition(" ")
            url = f"/tenants/{TENANT}/v1.0{path.replace('{user}', user)}"
            answer = (
                client.request(
                    method, url, content=(body or "{").encode(), headers={"content-type": "application/json"}
                )
                if method == "POST"
                else client.request(method, url)
            )
            assert answer.status_code == status, (request, answer.text)
            error = answer.json()["error"]
            assert says in error["message"], (request, error)
            assert "\n" not in error["message"] and "Traceback" not in answer.text
            assert error["innerError"]["request-id"] == answer.headers["request-id"]
        assert client.get(f"/tenants/{TENANT}/v1.0/users/{user}").status_code == 200  # still serving
    after = export(own_server.db)
    # The request naming an unknown SKU was a well-formed command that the rules refused: it is on record, as an
    # ingested one would be; nothing else changed.
    (refused,) = after["rejectedCommands"][len(before["rejectedCommands"]) :]
    assert refused["error"] == "UnknownSku"
    assert {**after, "rejectedCommands": before["rejectedCommands"]} == before


def test_a_port_in_use_or_an_unopenable_database_is_a_one_line_failure(tmp_path: Path) -> None:
    def serve(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LICENSING), "serve", *args], capture_output=True, text=True, timeout=60, env=clean_env(), check=False
        )

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = serve("--db", str(tmp_path / "new.db"), "--port", str(port))
    directory = serve("--db", str(tmp_path), "--port", str(free_port()))
    expected = ((in_use, f"cannot bind 127.0.0.1:{port}"), (directory, "is a directory, not a licensing database"))
    for result, says in expected:
        assert result.returncode != 0
        message = result.stderr.strip()
        assert len(message.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
        assert says in message
