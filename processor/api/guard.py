"""The server's gate, in front of every route: the bearer token, read-only mode, the body size limit, request ids.

A plain ASGI middleware: it answers refusals itself (Graph's error shape), before any route runs, and hands the
routes a body it has already read within the limit, so a route never sees a larger one.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from processor.api.graph.errors import error_document
from processor.api.settings import ServeSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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

        if self.token is not None:
            given = headers.get(b"authorization", b"")
            if not given:
                await refuse(401, "InvalidAuthenticationToken", "Access token is empty.")
                return
            scheme, _, token = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.token):
                await refuse(401, "InvalidAuthenticationToken", "Access token validation failure.")
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
