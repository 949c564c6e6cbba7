"""The server's gate, in front of every route: the bearer token (or a signed-in browser's session, signin.py),
read-only mode, the body size limit, request ids.

A plain ASGI middleware: it answers refusals itself (Graph's error shape), before any route runs, and hands the
routes a body it has already read within the limit, so a route never sees a larger one.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from processor.api import signin
from processor.api.graph.errors import error_document
from processor.api.settings import ServeSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_PREFIX = "/dashboard/static/"  # the dashboard's own CSS and scripts: no data, and the sign-in page uses them


class Guard:
    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.token = settings.token.encode() if settings.token else None
        self.read_only = settings.read_only
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        request_id = str(uuid.uuid4())
        client_request_id = headers.get(b"client-request-id", b"").decode("latin-1")
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [(b"request-id", request_id.encode())]
        if client_request_id:
            extra.append((b"client-request-id", client_request_id.encode("latin-1")))

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        async def refuse(status: int, code: str, message: str) -> None:
            body = orjson.dumps(error_document(code, message, request_id, client_request_id))
            response_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            if status == 401:
                response_headers.append((b"www-authenticate", b'Bearer realm="licensing"'))
            await send_with_ids({"type": "http.response.start", "status": status, "headers": response_headers})
            await send_with_ids({"type": "http.response.body", "body": body})

        if self.token is not None and not _public(scope["path"]):
            if scope["path"] in (signin.LOGIN, signin.LOGOUT):
                await self._sign_in(scope, headers, receive, send_with_ids)
                return
            given = headers.get(b"authorization", b"")
            if given:
                scheme, _, token = given.partition(b" ")
                if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.token):
                    await refuse(401, "InvalidAuthenticationToken", "Access token validation failure.")
                    return
            elif not self._session_allows(scope, headers):
                if scope["method"] in signin.SAFE_METHODS and signin.wants_a_page(headers):  # a browser: sign in
                    location = signin.login_redirect(scope["path"], scope.get("query_string", b""))
                    await _answer(send_with_ids, 303, b"", [(b"location", location.encode())])
                    return
                await refuse(401, "InvalidAuthenticationToken", "Access token is empty.")
                return
        if scope["method"] in COMMAND_METHODS:
            if self.read_only:
                await refuse(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
                return
            body = await self._body(headers, receive)
            if body is None:
                await refuse(413, "Request_EntityTooLarge", f"The request body is larger than {self.max_body:,} bytes.")
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send_with_ids)

    def _session_allows(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        """A signed-in browser: any read, and commands from the server's own pages (its reprocess buttons)."""
        assert self.token is not None
        if not signin.has_session(headers, self.token):
            return False
        return scope["method"] in signin.SAFE_METHODS or signin.same_origin(scope["scheme"], headers)

    async def _sign_in(self, scope: Scope, headers: dict[bytes, bytes], receive: Receive, send: Send) -> None:
        """/login: the form (GET), the token checked and the session cookie set (POST); /logout: the cookie gone."""
        assert self.token is not None
        secure = scope["scheme"] == "https"
        if scope["path"] == signin.LOGOUT:
            clear = signin.cookie_header("", secure, clear=True)
            await _answer(send, 303, b"", [(b"location", signin.LOGIN.encode()), (b"set-cookie", clear)])
            return
        page = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")]
        if scope["method"] != "POST":
            query = signin.form_fields(scope.get("query_string", b""))
            await _answer(send, 200, signin.login_page(signin.local_path(query.get("next")), failed=False), page)
            return
        body = await self._body(headers, receive)
        fields = signin.form_fields(body or b"")
        target = signin.local_path(fields.get("next"))
        if not hmac.compare_digest(fields.get("token", "").encode(), self.token):
            await _answer(send, 401, signin.login_page(target, failed=True), page)
            return
        cookie = signin.cookie_header(signin.session_value(self.token), secure)
        await _answer(send, 303, b"", [(b"location", target.encode()), (b"set-cookie", cookie)])

    async def _body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes | None:
        """The whole request body, or None as soon as it is known to exceed the limit."""
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, then: Receive) -> Receive:
    """A receive that gives the body read already, then what the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIX) and ".." not in path
