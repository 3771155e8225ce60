"""Security headers on every answer (pure ASGI, so streams and static files get them too).

- Pages, the API and static files: a strict Content-Security-Policy (scripts from this
  origin only, no inline script), ``frame-ancestors 'none'`` with ``X-Frame-Options: DENY``
  (no other site can frame the control or account pages), ``nosniff`` and a Referrer-Policy.
- The overlay (``/overlay/...``): the same CSP but framable by anyone. OBS loads it directly,
  the control page previews it in a frame, and streamers' tools embed it; it is read-only and
  public, with nothing to click, so framing it gives an attacker nothing.
- The API docs page loads Swagger UI from its CDN with an inline bootstrap script: its own
  rule allows that CDN, on that page only.
- The built-in fakes (``/_fake/...``, development and tests only) get no CSP.
- HSTS when ``BASE_URL`` is https (a year; subdomains are left to the operator)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BASE = (
    "default-src 'self'",
    "script-src 'self'",
    # htmx injects its indicator styles; templates carry a couple of style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
)
PAGE_CSP = "; ".join((*_BASE, "frame-ancestors 'none'"))
OVERLAY_CSP = "; ".join((*_BASE, "frame-ancestors *"))
# The API docs page is Swagger UI served from our static files; FastAPI's page starts it with
# an inline script.
DOCS_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = b"max-age=31536000"


def headers_for(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    common = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if https:
        common.append((b"strict-transport-security", HSTS))
    if path.startswith("/_fake/"):
        return common
    if path == "/overlay" or path.startswith("/overlay/"):
        return [*common, (b"content-security-policy", OVERLAY_CSP.encode())]
    if path.startswith("/api/v1/docs"):
        return [
            *common,
            (b"content-security-policy", DOCS_CSP.encode()),
            (b"x-frame-options", b"DENY"),
        ]
    return [
        *common,
        (b"content-security-policy", PAGE_CSP.encode()),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""), self.https)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(k, v) for k, v in extra if k not in present]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
