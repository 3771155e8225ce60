"""``POST /webhooks/twitch`` (SPEC §6). Verify, store in the inbox, acknowledge: nothing else
happens in the request: the body is parsed once, here, into the domain message it means, and
the ingest loop does the rest.

Answers: 403 for a missing or bad signature and for a stale timestamp; 400 for a signed body
that is not a Twitch delivery; the challenge as text/plain; 204 for anything stored, already
stored (a redelivery) or of a type we do not use. A bad body never becomes a 5xx."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from premiere_ecoute.apis.twitch.eventsub import messages as m
from premiere_ecoute.apis.twitch.eventsub.inbound import store_inbound
from premiere_ecoute.apis.twitch.eventsub.parser import parse_webhook, verify_webhook
from premiere_ecoute.web.deps import WebDeps, deps
from premiere_ecoute.web.errors import error_body

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)
MAX_BODY = 256 * 1024
# The inbox columns' sizes: longer values cannot be Twitch's.
MAX_MESSAGE_ID = 200
MAX_SUBSCRIPTION_TYPE = 100


def _bad_request(c: WebDeps, reason: str) -> JSONResponse:
    c.metrics.webhooks.labels("malformed").inc()
    return JSONResponse(error_body("bad_request", f"malformed message: {reason}"), status_code=400)


async def _bounded_body(request: Request) -> bytes | None:
    """The body, read no further than MAX_BODY (an unauthenticated endpoint must not let a
    huge POST fill the memory); None when it is larger."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/webhooks/twitch")
async def twitch_webhook(request: Request) -> Response:
    c = deps(request)
    body = await _bounded_body(request)
    if body is None:
        c.metrics.webhooks.labels("too_large").inc()
        return JSONResponse(error_body("payload_too_large", "body too large"), status_code=413)
    try:
        msg = verify_webhook(request.headers, body, c.settings.twitch_webhook_secret, c.clock.now())
    except m.WebhookRejected as exc:
        c.metrics.webhooks.labels(f"rejected_{exc.status_code}").inc()
        log.info("twitch.webhook.rejected", reason=exc.reason)
        code = "forbidden" if exc.status_code == 403 else "bad_request"
        return JSONResponse(error_body(code, exc.reason), status_code=exc.status_code)
    except OverflowError:
        # A signed timestamp at the edge of the calendar (0001-01-01T00:00:00+23:59).
        c.metrics.webhooks.labels("rejected_400").inc()
        return JSONResponse(error_body("bad_request", "malformed timestamp"), status_code=400)
    if len(msg.message_id) > MAX_MESSAGE_ID or len(msg.subscription_type) > MAX_SUBSCRIPTION_TYPE:
        return _bad_request(c, "message id or subscription type too long")
    try:
        parsed = parse_webhook(msg)
    except m.MalformedMessage as exc:
        return _bad_request(c, exc.reason)
    if isinstance(parsed, m.Verification):
        c.metrics.webhooks.labels("verification").inc()
        return PlainTextResponse(parsed.challenge, status_code=200)
    if isinstance(parsed, m.Ignored):
        c.metrics.webhooks.labels("ignored").inc()
        return Response(status_code=204)
    try:
        stored = await store_inbound(c.inbox_writer, msg.message_id, parsed)
    except Exception:
        # Not stored, so not acknowledged: Twitch delivers it again later.
        log.exception("twitch.webhook.store_failed", message_id=msg.message_id)
        c.metrics.webhooks.labels("store_failed").inc()
        return JSONResponse(
            error_body("unavailable", "could not store the message; retry later"),
            status_code=503,
        )
    c.metrics.webhooks.labels("stored" if stored else "duplicate").inc()
    return Response(status_code=204)
