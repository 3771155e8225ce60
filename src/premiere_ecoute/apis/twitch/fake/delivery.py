"""How the fake Twitch talks to the app: signed webhook POSTs and WebSocket frames.

Everything here is shaped like Twitch's traffic (``eventsub.envelope``) and signed with each
subscription's own secret, so the app's production code path is what receives it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import structlog

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp
from premiere_ecoute.apis.twitch.fake.state import (
    DeliveryRecord,
    FakePoll,
    FakeSubscription,
    FakeTwitch,
    FakeUser,
)

log = structlog.get_logger(__name__)


async def _post(
    state: FakeTwitch, sub: FakeSubscription, message_type: str, body: bytes
) -> httpx.Response | None:
    headers = envelope.webhook_headers(
        sub.secret, state.new_id(), state.timestamp(), message_type, sub.type, sub.version, body
    )
    try:
        response = await state.delivery_http().post(sub.callback, content=body, headers=headers)
    except httpx.HTTPError as exc:
        state.deliveries.append(DeliveryRecord(sub.id, message_type, False, repr(exc)))
        log.warning("fake_twitch.delivery.failed", subscription_id=sub.id, error=repr(exc))
        return None
    ok = response.is_success
    state.deliveries.append(DeliveryRecord(sub.id, message_type, ok, str(response.status_code)))
    return response


def _frame(state: FakeTwitch, sub: FakeSubscription, message_type: str, payload: Any) -> bool:
    session = state.ws_sessions.get(sub.session_id)
    if session is None:
        state.deliveries.append(DeliveryRecord(sub.id, message_type, False, "no session"))
        return False
    frame = envelope.ws_frame(
        message_type, payload, state.new_id(), state.timestamp(), sub.type, sub.version
    )
    session.outbox.put_nowait(frame)
    state.deliveries.append(DeliveryRecord(sub.id, message_type, True, "frame"))
    return True


async def verify_callback(state: FakeTwitch, sub: FakeSubscription) -> None:
    """Twitch's handshake: POST a random challenge; only an exact echo enables the webhook."""
    challenge = state.new_id().replace("-", "")
    body = envelope.verification_body(sub.public(), challenge)
    response = await _post(state, sub, "webhook_callback_verification", body)
    verified = response is not None and response.status_code == 200 and response.text == challenge
    sub.status = "enabled" if verified else "webhook_callback_verification_failed"
    log.info("fake_twitch.eventsub.verification", subscription_id=sub.id, status=sub.status)


async def deliver(state: FakeTwitch, sub: FakeSubscription, event: Mapping[str, Any]) -> bool:
    """Send one notification for ``sub``; True when the app acknowledged it."""
    if sub.method == "websocket":
        return _frame(
            state, sub, "notification", envelope.notification_payload(sub.public(), event)
        )
    response = await _post(
        state, sub, "notification", envelope.notification_body(sub.public(), event)
    )
    return response is not None and response.is_success


async def deliver_to_channel(
    state: FakeTwitch, broadcaster_id: str, type_: str, event: Mapping[str, Any]
) -> int:
    """Send ``event`` to every enabled ``type_`` subscription of the channel; count the acks."""
    delivered = 0
    for sub in state.subscriptions_for(broadcaster_id, type_):
        if await deliver(state, sub, event):
            delivered += 1
    return delivered


async def revoke(state: FakeTwitch, sub: FakeSubscription, status: str) -> None:
    sub.status = status
    if sub.method == "websocket":
        _frame(state, sub, "revocation", envelope.revocation_payload(sub.public()))
    else:
        await _post(state, sub, "revocation", envelope.revocation_body(sub.public()))


async def chat_message(
    state: FakeTwitch, broadcaster: FakeUser, chatter: FakeUser, text: str, via: str
) -> int:
    """Record a chat line and deliver it as ``channel.chat.message``."""
    line = state.record_chat(broadcaster.id, chatter, text, via)
    event = envelope.chat_message_event(
        broadcaster.id, broadcaster.login, chatter.id, chatter.login, text, line.message_id
    )
    return await deliver_to_channel(state, broadcaster.id, "channel.chat.message", event)


async def poll_update(state: FakeTwitch, poll: FakePoll, kind: envelope.PollKind) -> int:
    ends_at = poll.ended_at if kind == "end" and poll.ended_at else None
    if ends_at is None:
        ends_at = poll.started_at + dt.timedelta(seconds=poll.duration)
    event = envelope.poll_event(
        kind,
        poll.id,
        poll.broadcaster.id,
        poll.broadcaster.login,
        poll.title,
        poll.event_choices(),
        poll.status.lower(),
        format_twitch_timestamp(poll.started_at),
        format_twitch_timestamp(ends_at),
    )
    return await deliver_to_channel(state, poll.broadcaster.id, f"channel.poll.{kind}", event)


def random_ballots(state: FakeTwitch, poll: FakePoll, count: int) -> None:
    """Add ``count`` ballots, favouring the upper half of the choices like a friendly crowd."""
    weights: Sequence[float] = [1.0 + i for i in range(len(poll.choices))]
    for choice in state.rng.choices(poll.choices, weights=weights, k=count):
        choice.votes += 1
