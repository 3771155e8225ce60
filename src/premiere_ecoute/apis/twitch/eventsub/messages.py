"""What an EventSub delivery means once verified and parsed; no provider JSON past this point:
the notifications sessions use become their inbound messages (``sessions.inbound``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from premiere_ecoute.sessions.inbound import Inbound

NOTIFICATION = "notification"
VERIFICATION = "webhook_callback_verification"
REVOCATION = "revocation"

CHAT_MESSAGE = "channel.chat.message"
POLL_BEGIN = "channel.poll.begin"
POLL_PROGRESS = "channel.poll.progress"
POLL_END = "channel.poll.end"
SUPPORTED_SUBSCRIPTION_TYPES = (CHAT_MESSAGE, POLL_BEGIN, POLL_PROGRESS, POLL_END)


class WebhookRejected(Exception):
    """A webhook delivery we must refuse; ``status_code`` is the HTTP answer (400 or 403)."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(f"{status_code}: {reason}")
        self.status_code = status_code
        self.reason = reason


class MalformedMessage(Exception):
    """An authentic delivery whose body does not have the shape Twitch documents."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """A webhook delivery whose signature and freshness were checked."""

    message_id: str
    message_type: str
    timestamp: datetime
    subscription_type: str
    subscription_version: str | None
    retry: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Verification:
    challenge: str


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


ParsedMessage = Inbound | Verification | Ignored
