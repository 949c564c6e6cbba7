"""Test helper: a real HTTP server on 127.0.0.1 answering Graph v1.0 list requests from a snapshot folder, a few
items per page with @odata.nextLink, and recording what it was asked (path, query, Authorization header)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGE = 2  # items per page by default: every list of more than two items is paged


@contextmanager
def fake_graph(folder: Path, status: int = 200, page: int = PAGE) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """(base URL, requests seen) of a server answering from `folder` (or with `status` and a Graph error body)."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection for the whole snapshot

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            seen.append({"path": url.path, "authorization": self.headers.get("Authorization", ""), **query})
            if status != 200:
                error = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges."}}
                return self._answer(status, error)
            name = url.path.removeprefix("/v1.0/")
            if name.startswith("groups/") and name.endswith("/members"):
                name = f"members/{name.split('/')[1]}"
            path = folder / f"{name}.json"
            if not path.exists():
                return self._answer(404, {"error": {"code": "Request_ResourceNotFound", "message": name}})
            items = json.loads(path.read_text("utf-8"))["value"]
            start = int(query.get("$skiptoken", 0))
            answer: dict[str, object] = {"value": items[start : start + page]}
            if start + page < len(items):
                answer["@odata.nextLink"] = f"{base}/{url.path.removeprefix('/v1.0/')}?$skiptoken={start + page}"
            self._answer(200, answer)

        def _answer(self, code: int, body: object) -> None:
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/v1.0"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, seen
    finally:
        server.shutdown()
        server.server_close()
