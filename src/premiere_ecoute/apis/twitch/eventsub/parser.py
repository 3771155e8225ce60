"""Turn EventSub deliveries (webhook or WebSocket) into domain messages.

Twitch's JSON stops here. Routing is by the broadcaster id inside the event, never by the
subscription id: another process or an earlier deployment may own the subscription.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from premiere_ecoute.apis.twitch.eventsub import messages as m
from premiere_ecoute.apis.twitch.eventsub.signing import parse_twitch_timestamp, verify_signature
from premiere_ecoute.sessions.inbound import ChatLine, PollTally, SubscriptionRevoked

# Twitch's documented replay window; we also refuse the same distance into the future.
MAX_MESSAGE_AGE = timedelta(minutes=10)

_POLL_KINDS: dict[str, str] = {
    m.POLL_BEGIN: "begin",
    m.POLL_PROGRESS: "progress",
    m.POLL_END: "end",
}


def verify_webhook(
    headers: Mapping[str, str], body: bytes, secret: str, now: datetime
) -> m.WebhookMessage:
    """Check a webhook delivery's signature and freshness; raise WebhookRejected if it fails.

    The signature is checked before anything else it covers, so unsigned garbage always gets
    403 and a 400 only ever reaches someone who holds the secret.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    signature = lowered.get("twitch-eventsub-message-signature")
    if not signature:
        raise m.WebhookRejected(403, "missing signature")
    message_id = lowered.get("twitch-eventsub-message-id")
    raw_timestamp = lowered.get("twitch-eventsub-message-timestamp")
    if not message_id or raw_timestamp is None:
        raise m.WebhookRejected(400, "missing message id or timestamp")
    if not verify_signature(secret, message_id, raw_timestamp, body, signature):
        raise m.WebhookRejected(403, "bad signature")
    try:
        timestamp = parse_twitch_timestamp(raw_timestamp)
    except ValueError:
        raise m.WebhookRejected(400, "malformed timestamp") from None
    # A naive clock value is taken as UTC rather than failing every delivery.
    current = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if current - timestamp > MAX_MESSAGE_AGE:
        raise m.WebhookRejected(403, "message too old")
    if timestamp - current > MAX_MESSAGE_AGE:
        raise m.WebhookRejected(403, "message timestamp in the future")
    message_type = lowered.get("twitch-eventsub-message-type")
    subscription_type = lowered.get("twitch-eventsub-subscription-type")
    if not message_type or not subscription_type:
        raise m.WebhookRejected(400, "missing message type or subscription type")
    try:
        retry = int(lowered.get("twitch-eventsub-message-retry") or "0")
    except ValueError:
        retry = 0
    return m.WebhookMessage(
        message_id=message_id,
        message_type=message_type,
        timestamp=timestamp,
        subscription_type=subscription_type,
        subscription_version=lowered.get("twitch-eventsub-subscription-version"),
        retry=retry,
        body=body,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for every delivery (``json.loads`` with an option builds one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def decode_json(body: bytes | str) -> Any:
    """The JSON of a delivery (webhook body or WebSocket frame), storable as JSONB:
    NaN/Infinity and lone surrogates are refused (MalformedMessage), NUL characters (which
    PostgreSQL cannot store) dropped."""
    try:
        data = body.encode() if isinstance(body, str) else body
        payload = _DECODER.decode(body if isinstance(body, str) else body.decode("utf-8"))
    except (ValueError, UnicodeError, RecursionError):
        raise m.MalformedMessage("body is not JSON") from None
    if b"\\u" in data:  # escapes are rare in Twitch's bodies: check only when present
        try:
            json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise m.MalformedMessage("body holds invalid unicode") from None
        if b"\\u0000" in data:
            payload = _without_nul(payload)
    return payload


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def parse_webhook(message: m.WebhookMessage) -> m.ParsedMessage:
    """Decode and parse a verified webhook delivery; raise MalformedMessage if it is not JSON."""
    payload = decode_json(message.body)
    kind, subscription = message.message_type, message.subscription_type
    return parse_payload(kind, subscription, payload, message.timestamp)


def parse_payload(
    message_type: str, subscription_type: str, payload: Any, timestamp: datetime
) -> m.ParsedMessage:
    """Parse a delivery's payload (webhook body, or the ``payload`` of a WebSocket frame).

    ``timestamp`` is the delivery's message timestamp, which dates a chat message.
    """
    root = _object(payload, "payload")
    if message_type == m.VERIFICATION:
        return m.Verification(challenge=_string(root, "challenge"))
    if message_type == m.REVOCATION:
        return _revocation(_object(root.get("subscription"), "subscription"))
    if message_type != m.NOTIFICATION:
        return m.Ignored(reason=f"message type {message_type!r} is not handled")
    event = _object(root.get("event"), "event")
    if subscription_type == m.CHAT_MESSAGE:
        return _chat_message(event, timestamp)
    kind = _POLL_KINDS.get(subscription_type)
    if kind is not None:
        return _poll_update(kind, event, timestamp)
    return m.Ignored(reason=f"subscription type {subscription_type!r} is not handled")


def _chat_message(event: Mapping[str, Any], sent_at: datetime) -> ChatLine:
    message = _object(event.get("message"), "event.message")
    text = message.get("text")
    if not isinstance(text, str):
        raise m.MalformedMessage("event.message.text is not a string")
    _string(event, "message_id")
    login = _string(event, "chatter_user_login")
    return ChatLine(
        broadcaster_id=_string(event, "broadcaster_user_id"),
        chatter_id=_string(event, "chatter_user_id"),
        chatter_login=login,
        chatter_name=_optional_string(event, "chatter_user_name") or login,
        text=text,
        sent_at=sent_at,
    )


def _poll_update(kind: str, event: Mapping[str, Any], at: datetime) -> PollTally:
    raw_choices = event.get("choices")
    if not isinstance(raw_choices, list) or not raw_choices:
        raise m.MalformedMessage("event.choices is not a non-empty list")
    counts: dict[str, int] = {}
    for raw in raw_choices:
        choice = _object(raw, "event.choices[]")
        # begin carries no counts: every choice starts at zero.
        votes = choice.get("votes", 0 if kind == "begin" else None)
        if isinstance(votes, bool) or not isinstance(votes, int) or votes < 0:
            raise m.MalformedMessage("event.choices[].votes is not a non-negative integer")
        _string(choice, "id")
        title = _string(choice, "title")
        counts[title] = counts.get(title, 0) + votes
    if kind == "end":
        _string(event, "status")
    return PollTally(
        poll_id=_string(event, "id"),
        broadcaster_id=_string(event, "broadcaster_user_id"),
        counts=counts,
        final=kind == "end",
        at=at,
    )


def _revocation(subscription: Mapping[str, Any]) -> SubscriptionRevoked:
    condition = subscription.get("condition")
    broadcaster = None
    if isinstance(condition, Mapping):
        broadcaster = _optional_string(condition, "broadcaster_user_id")
    return SubscriptionRevoked(
        subscription_id=_string(subscription, "id"),
        subscription_type=_string(subscription, "type"),
        reason=_string(subscription, "status"),
        broadcaster_id=broadcaster,
    )


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise m.MalformedMessage(f"{where} is not an object")
    return value


def _string(container: Mapping[str, Any], key: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise m.MalformedMessage(f"{key} is missing or not a string")
    return value


def _optional_string(container: Mapping[str, Any], key: str) -> str | None:
    value = container.get(key)
    return value if isinstance(value, str) and value else None
