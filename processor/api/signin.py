"""Signing a browser in to a token-protected server: the token is typed once at /login, and a session cookie stands
in for the `Authorization` header from then on (scripts and SDKs keep sending the header).

The cookie holds a value derived from the token, not the token: it never reaches a script (HttpOnly), another site's
pages never send it (SameSite=Strict), and a command it carries must come from the server's own pages (its `Origin`
is the server's), the check OWASP recommends against cross-site request forgery besides SameSite.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from html import escape
from urllib.parse import parse_qs, quote

SESSION_COOKIE = "licensing_session"
LOGIN, LOGOUT = "/login", "/logout"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def session_value(token: bytes) -> str:
    """What the cookie of a signed-in browser holds: the same for every browser of one server token."""
    return hmac.new(token, b"licensing dashboard session", hashlib.sha256).hexdigest()


def has_session(headers: Mapping[bytes, bytes], token: bytes) -> bool:
    expected = session_value(token).encode()
    for part in headers.get(b"cookie", b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode() and hmac.compare_digest(value, expected):
            return True
    return False


def same_origin(scheme: str, headers: Mapping[bytes, bytes]) -> bool:
    """Whether the request says it comes from a page of this server (browsers send `Origin` with every POST)."""
    origin, host = headers.get(b"origin"), headers.get(b"host")
    return (
        origin is not None and host is not None and origin.decode("latin-1") == f"{scheme}://{host.decode('latin-1')}"
    )


def wants_a_page(headers: Mapping[bytes, bytes]) -> bool:
    """A browser navigating (it asks for HTML), as opposed to a script or an SDK."""
    return b"text/html" in headers.get(b"accept", b"")


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path of this server only (never another site: `//host` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(path: str, query: bytes) -> str:
    target = path + ("?" + query.decode("latin-1") if query else "")
    return f"{LOGIN}?next={quote(target, safe='')}"


def form_fields(body: bytes) -> dict[str, str]:
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def cookie_header(value: str, secure: bool, clear: bool = False) -> bytes:
    attributes = "Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    if clear:
        return f"{SESSION_COOKIE}=; Max-Age=0; {attributes}".encode()
    return f"{SESSION_COOKIE}={value}; {attributes}".encode()


def login_page(target: str, failed: bool) -> bytes:
    """The sign-in form: one field, the server's token (`licensing serve --token`)."""
    problem = '<p class="problem" role="alert">That is not this server\'s token.</p>' if failed else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · licensing</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/dashboard/static/dashboard.css"></head>
<body><main class="signin">
<h1>Sign in</h1>
<p>This server asks for its token (the one given to <code>licensing serve --token</code>).</p>
{problem}
<form method="post" action="{LOGIN}">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{escape(target)}">
<button type="submit">Sign in</button>
</form>
</main></body></html>
""".encode()
