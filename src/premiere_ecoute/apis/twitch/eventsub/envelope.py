"""Builders of the JSON Twitch EventSub sends, field for field.

Used by the fake Twitch, the crowd simulator and tests, so that what our parser is tested
against is shaped like production traffic (including the fields we never read). ``*_body``
functions return the raw bytes that get signed; ``*_payload`` functions the same as a dict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from premiere_ecoute.apis.twitch.eventsub.signing import sign

PollKind = Literal["begin", "progress", "end"]

HEADER_ID = "Twitch-Eventsub-Message-Id"
HEADER_RETRY = "Twitch-Eventsub-Message-Retry"
HEADER_TYPE = "Twitch-Eventsub-Message-Type"
HEADER_SIGNATURE = "Twitch-Eventsub-Message-Signature"
HEADER_TIMESTAMP = "Twitch-Eventsub-Message-Timestamp"
HEADER_SUBSCRIPTION_TYPE = "Twitch-Eventsub-Subscription-Type"
HEADER_SUBSCRIPTION_VERSION = "Twitch-Eventsub-Subscription-Version"


def encode(payload: Mapping[str, Any]) -> bytes:
    """Serialise a payload compactly, as Twitch does (non-ASCII kept as UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def subscription_dict(
    id: str,
    type: str,
    version: str,
    condition: Mapping[str, str],
    transport: Mapping[str, str],
    status: str,
    created_at: str,
    cost: int = 0,
) -> dict[str, Any]:
    return {
        "id": id,
        "status": status,
        "type": type,
        "version": version,
        "cost": cost,
        "condition": dict(condition),
        "transport": dict(transport),
        "created_at": created_at,
    }


def webhook_transport(callback: str) -> dict[str, str]:
    return {"method": "webhook", "callback": callback}


def websocket_transport(session_id: str) -> dict[str, str]:
    return {"method": "websocket", "session_id": session_id}


def notification_payload(
    subscription: Mapping[str, Any], event: Mapping[str, Any]
) -> dict[str, Any]:
    return {"subscription": dict(subscription), "event": dict(event)}


def notification_body(subscription: Mapping[str, Any], event: Mapping[str, Any]) -> bytes:
    return encode(notification_payload(subscription, event))


def verification_body(subscription: Mapping[str, Any], challenge: str) -> bytes:
    return encode({"challenge": challenge, "subscription": dict(subscription)})


def revocation_payload(subscription: Mapping[str, Any]) -> dict[str, Any]:
    return {"subscription": dict(subscription)}


def revocation_body(subscription: Mapping[str, Any]) -> bytes:
    return encode(revocation_payload(subscription))


def stable_user_id(login: str) -> str:
    """A stable nine-digit user id for a made-up ``login`` (fixtures, fakes, mentions): the same
    login always maps to the same user."""
    digest = hashlib.sha256(login.strip().lower().encode("utf-8")).hexdigest()
    return str(100_000_000 + int(digest[:12], 16) % 900_000_000)


def _fragment(kind: str, text: str, mention: dict[str, str] | None = None) -> dict[str, Any]:
    return {"type": kind, "text": text, "cheermote": None, "emote": None, "mention": mention}


def message_fragments(text: str) -> list[dict[str, Any]]:
    """Split chat text into Twitch fragments: ``@login`` words become mention fragments."""
    fragments: list[dict[str, Any]] = []
    buffer = ""
    for index, word in enumerate(text.split(" ")):
        separator = "" if index == 0 else " "
        if len(word) > 1 and word.startswith("@"):
            if buffer or separator:
                fragments.append(_fragment("text", buffer + separator))
            login = word[1:].lower()
            mention = {
                "user_id": stable_user_id(login),
                "user_name": word[1:],
                "user_login": login,
            }
            fragments.append(_fragment("mention", word, mention))
            buffer = ""
        else:
            buffer += separator + word
    if buffer or not fragments:
        fragments.append(_fragment("text", buffer))
    return fragments


def chat_message_event(
    broadcaster_id: str,
    broadcaster_login: str,
    chatter_id: str,
    chatter_login: str,
    text: str,
    message_id: str,
    *,
    color: str = "#1E90FF",
    badges: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """The ``event`` of a ``channel.chat.message`` (version 1) notification."""
    return {
        "broadcaster_user_id": broadcaster_id,
        "broadcaster_user_login": broadcaster_login,
        "broadcaster_user_name": broadcaster_login,
        "chatter_user_id": chatter_id,
        "chatter_user_login": chatter_login,
        "chatter_user_name": chatter_login,
        "message_id": message_id,
        "message": {"text": text, "fragments": message_fragments(text)},
        "color": color,
        "badges": [dict(badge) for badge in badges],
        "message_type": "text",
        "cheer": None,
        "reply": None,
        "channel_points_custom_reward_id": None,
        "channel_points_animation_id": None,
        "source_broadcaster_user_id": None,
        "source_broadcaster_user_login": None,
        "source_broadcaster_user_name": None,
        "source_message_id": None,
        "source_badges": None,
        "is_source_only": None,
    }


def poll_event(
    kind: PollKind,
    poll_id: str,
    broadcaster_id: str,
    broadcaster_login: str,
    title: str,
    choices: Sequence[tuple[str, str, int]],
    status: str,
    started_at: str,
    ends_at: str,
) -> dict[str, Any]:
    """The ``event`` of a ``channel.poll.begin|progress|end`` notification.

    ``begin`` choices carry no counts; ``end`` carries ``status`` and ``ended_at`` instead of
    ``ends_at``, as in Twitch's payloads. ``status`` is ignored for begin and progress.
    """
    event_choices: list[dict[str, Any]] = []
    for choice_id, choice_title, votes in choices:
        choice: dict[str, Any] = {"id": choice_id, "title": choice_title}
        if kind != "begin":
            choice.update({"bits_votes": 0, "channel_points_votes": 0, "votes": votes})
        event_choices.append(choice)
    event: dict[str, Any] = {
        "id": poll_id,
        "broadcaster_user_id": broadcaster_id,
        "broadcaster_user_login": broadcaster_login,
        "broadcaster_user_name": broadcaster_login,
        "title": title,
        "choices": event_choices,
        "bits_voting": {"is_enabled": False, "amount_per_vote": 0},
        "channel_points_voting": {"is_enabled": False, "amount_per_vote": 0},
        "started_at": started_at,
    }
    if kind == "end":
        event["status"] = status
        event["ended_at"] = ends_at
    else:
        event["ends_at"] = ends_at
    return event


def webhook_headers(
    secret: str,
    message_id: str,
    timestamp: str,
    message_type: str,
    subscription_type: str,
    version: str,
    body: bytes,
    *,
    retry: int = 0,
) -> dict[str, str]:
    """The headers of a webhook delivery, signed with ``secret``."""
    return {
        "Content-Type": "application/json",
        HEADER_ID: message_id,
        HEADER_RETRY: str(retry),
        HEADER_TYPE: message_type,
        HEADER_SIGNATURE: sign(secret, message_id, timestamp, body),
        HEADER_TIMESTAMP: timestamp,
        HEADER_SUBSCRIPTION_TYPE: subscription_type,
        HEADER_SUBSCRIPTION_VERSION: version,
    }


def session_payload(
    session_id: str,
    status: str,
    connected_at: str,
    keepalive_timeout_seconds: int | None = 10,
    reconnect_url: str | None = None,
) -> dict[str, Any]:
    """Payload of ``session_welcome`` (status connected) or ``session_reconnect``."""
    return {
        "session": {
            "id": session_id,
            "status": status,
            "connected_at": connected_at,
            "keepalive_timeout_seconds": keepalive_timeout_seconds,
            "reconnect_url": reconnect_url,
            "recovery_url": None,
        }
    }


def ws_frame(
    message_type: str,
    payload: Mapping[str, Any],
    message_id: str,
    timestamp: str,
    subscription_type: str | None = None,
    version: str | None = None,
) -> str:
    """A WebSocket text frame: metadata (with the subscription for notifications) + payload."""
    metadata: dict[str, str] = {
        "message_id": message_id,
        "message_type": message_type,
        "message_timestamp": timestamp,
    }
    if subscription_type is not None:
        metadata["subscription_type"] = subscription_type
        metadata["subscription_version"] = version or "1"
    return json.dumps({"metadata": metadata, "payload": dict(payload)}, ensure_ascii=False)
