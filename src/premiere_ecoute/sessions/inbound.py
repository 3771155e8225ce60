"""What reaches sessions from Twitch, in the domain's terms: a chat line, a poll's tally, a
lost subscription. The edge (the webhook and the EventSub WebSocket) parses Twitch's JSON
once into these; the inbox stores them with ``to_inbox``; the ingest reads them back with
``from_inbox`` and never sees Twitch's JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHAT = "chat"
POLL = "poll"
REVOCATION = "revocation"


@dataclass(frozen=True, slots=True)
class ChatLine:
    broadcaster_id: str
    chatter_id: str
    chatter_login: str
    chatter_name: str
    text: str
    # When Twitch saw the message (the delivery's timestamp), which dates a vote (SPEC §4.3).
    sent_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PollTally:
    poll_id: str
    broadcaster_id: str
    counts: dict[str, int]  # choice title -> ballots so far
    final: bool
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class SubscriptionRevoked:
    subscription_id: str
    subscription_type: str
    reason: str  # Twitch's status: "user_removed", "authorization_revoked", ...
    broadcaster_id: str | None


Inbound = ChatLine | PollTally | SubscriptionRevoked


class BadInbound(ValueError):
    """A stored row that is not one of these messages (kept with the reason as its error)."""


def to_inbox(message: Inbound) -> tuple[str, dict[str, Any], dt.datetime | None]:
    """(kind, payload, sent_at) of an inbox row. The chat text is the ``text`` key, which
    ``Inbox.mark_done`` drops once the line is processed."""
    if isinstance(message, ChatLine):
        payload: dict[str, Any] = {
            "broadcaster_id": message.broadcaster_id,
            "chatter_id": message.chatter_id,
            "chatter_login": message.chatter_login,
            "chatter_name": message.chatter_name,
            "text": message.text,
        }
        return CHAT, payload, message.sent_at
    if isinstance(message, PollTally):
        payload = {
            "poll_id": message.poll_id,
            "broadcaster_id": message.broadcaster_id,
            "counts": message.counts,
            "final": message.final,
        }
        return POLL, payload, message.at
    payload = {
        "subscription_id": message.subscription_id,
        "subscription_type": message.subscription_type,
        "reason": message.reason,
        "broadcaster_id": message.broadcaster_id,
    }
    return REVOCATION, payload, None


def from_inbox(kind: str, payload: Mapping[str, Any], sent_at: dt.datetime | None) -> Inbound:
    try:
        if kind == CHAT:
            return ChatLine(
                broadcaster_id=_text(payload, "broadcaster_id"),
                chatter_id=_text(payload, "chatter_id"),
                chatter_login=str(payload.get("chatter_login") or ""),
                chatter_name=str(payload.get("chatter_name") or ""),
                text=str(payload["text"]),
                sent_at=sent_at or dt.datetime.now(dt.UTC),
            )
        if kind == POLL:
            counts = payload["counts"]
            return PollTally(
                poll_id=_text(payload, "poll_id"),
                broadcaster_id=str(payload.get("broadcaster_id") or ""),
                counts={str(k): int(v) for k, v in counts.items()},
                final=bool(payload["final"]),
                at=sent_at or dt.datetime.now(dt.UTC),
            )
        if kind == REVOCATION:
            broadcaster = payload.get("broadcaster_id")
            return SubscriptionRevoked(
                subscription_id=_text(payload, "subscription_id"),
                subscription_type=_text(payload, "subscription_type"),
                reason=str(payload.get("reason") or ""),
                broadcaster_id=str(broadcaster) if broadcaster else None,
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadInbound(f"malformed {kind}: {exc}") from None
    raise BadInbound(f"unknown kind {kind!r}")


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is not a string")
    return value
