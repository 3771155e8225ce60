"""``POST /webhooks/twitch`` (SPEC §6). Verify, store in the inbox, acknowledge: nothing else
happens in the request: the body is parsed once, here, into the domain message it means, and
the ingest loop does the rest.

Answers: 403 for a missing or bad signature and for a stale timestamp; 400 for a signed body
that is not a Twitch delivery; the challenge as text/plain; 204 for anything stored, already
stored (a redelivery) or of a type we do not use; 503 when the message could not be stored
(Twitch delivers it again). A bad body never becomes a 5xx.

This is the busiest endpoint by far (a chat burst on a big channel), so it is a plain ASGI
app that ``web.app`` serves ahead of the framework's routing and middleware: no session
cookie, no access log line per delivery (the ``twitch_webhooks_total`` counter has each
outcome), the request id middleware skipped."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import structlog
from starlette.types import Receive, Scope, Send

from premiere_ecoute.apis.twitch.eventsub import messages as m
from premiere_ecoute.apis.twitch.eventsub.inbound import store_inbound
from premiere_ecoute.apis.twitch.eventsub.parser import parse_webhook, verify_webhook
from premiere_ecoute.core.clock import Clock
from premiere_ecoute.core.inbox import GroupCommitWriter
from premiere_ecoute.telemetry.metrics import Metrics

log = structlog.get_logger(__name__)
PATH = "/webhooks/twitch"
MAX_BODY = 256 * 1024
# The inbox columns' sizes: longer values cannot be Twitch's.
MAX_MESSAGE_ID = 200
MAX_SUBSCRIPTION_TYPE = 100
_JSON = [(b"content-type", b"application/json")]


class TwitchWebhook:
    def __init__(
        self, secret: str, clock: Clock, writer: GroupCommitWriter, metrics: Metrics
    ) -> None:
        self._secret = secret
        self._clock = clock
        self._writer = writer
        counter = metrics.webhooks
        # Label children looked up once: this runs thousands of times a second.
        self._count: Callable[[str], None] = lambda outcome: counter.labels(outcome).inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _answer(
                send, 405, _error("method_not_allowed", "use POST"), [(b"allow", b"POST")]
            )
            return
        headers = _headers(scope)
        body = await _bounded_body(headers, receive)
        if body is None:
            self._count("too_large")
            await _answer(send, 413, _error("payload_too_large", "body too large"))
            return
        status, content, extra = await self._handle(headers, body)
        await _answer(send, status, content, extra)

    async def _handle(
        self, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        try:
            msg = verify_webhook(headers, body, self._secret, self._clock.now())
        except m.WebhookRejected as exc:
            self._count(f"rejected_{exc.status_code}")
            log.info("twitch.webhook.rejected", reason=exc.reason)
            code = "forbidden" if exc.status_code == 403 else "bad_request"
            return exc.status_code, _error(code, exc.reason), []
        except OverflowError:
            # A signed timestamp at the edge of the calendar (0001-01-01T00:00:00+23:59).
            self._count("rejected_400")
            return 400, _error("bad_request", "malformed timestamp"), []
        if (
            len(msg.message_id) > MAX_MESSAGE_ID
            or len(msg.subscription_type) > MAX_SUBSCRIPTION_TYPE
        ):
            return self._malformed("message id or subscription type too long")
        try:
            parsed = parse_webhook(msg)
        except m.MalformedMessage as exc:
            return self._malformed(exc.reason)
        if isinstance(parsed, m.Verification):
            self._count("verification")
            return 200, parsed.challenge.encode(), [(b"content-type", b"text/plain")]
        if isinstance(parsed, m.Ignored):
            self._count("ignored")
            return 204, b"", []
        try:
            stored = await store_inbound(self._writer, msg.message_id, parsed)
        except Exception:
            # Not stored, so not acknowledged: Twitch delivers it again later.
            log.exception("twitch.webhook.store_failed", message_id=msg.message_id)
            self._count("store_failed")
            content = _error("unavailable", "could not store the message; retry later")
            return 503, content, [(b"retry-after", b"5")]
        self._count("stored" if stored else "duplicate")
        return 204, b"", []

    def _malformed(self, reason: str) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        self._count("malformed")
        return 400, _error("bad_request", f"malformed message: {reason}"), []


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def _headers(scope: Scope) -> dict[str, str]:
    """The headers this endpoint reads (Twitch's and the body's length); the others are
    not decoded. Names arrive lower-cased; values are Latin-1 on the wire."""
    return {
        k.decode("latin-1"): v.decode("latin-1")
        for k, v in scope["headers"]
        if k.startswith(b"twitch-eventsub-") or k == b"content-length"
    }


async def _bounded_body(headers: Mapping[str, str], receive: Receive) -> bytes | None:
    """The body, read no further than MAX_BODY (an unauthenticated endpoint must not let a
    huge POST fill the memory); None when it is larger."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away: the answer goes nowhere
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _answer(
    send: Send,
    status: int,
    content: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    extra = headers or []
    if content and not any(k == b"content-type" for k, _ in extra):
        extra = [*_JSON, *extra]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*extra, (b"content-length", str(len(content)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": content})
