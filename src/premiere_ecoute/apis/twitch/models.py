"""What the Twitch client returns: plain value objects, no provider JSON past ``parser.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

# SPEC §1: every scope the product needs, asked once at login.
TWITCH_SCOPES: tuple[str, ...] = (
    "user:read:chat",
    "user:write:chat",
    "user:bot",
    "channel:bot",
    "channel:read:polls",
    "channel:manage:polls",
    "moderator:manage:announcements",
    "user:read:follows",
    "channel:manage:broadcast",
)
# Stream markers at each track (``POST /streams/markers``) need this one; streamers who logged
# in before it was asked grant it again from the account page.
MARKER_SCOPE = "channel:manage:broadcast"
MARKER_DESCRIPTION_MAX = 140


@dataclass(frozen=True, slots=True)
class TwitchUser:
    id: str
    login: str
    display_name: str
    broadcaster_type: str = ""  # "affiliate", "partner" or ""
    profile_image_url: str | None = None

    @property
    def can_run_polls(self) -> bool:
        """Twitch only lets affiliates and partners create polls."""
        return self.broadcaster_type in ("affiliate", "partner")


@dataclass(frozen=True, slots=True)
class PollChoice:
    id: str
    title: str
    votes: int = 0


@dataclass(frozen=True, slots=True)
class Poll:
    id: str
    broadcaster_id: str
    title: str
    status: str  # ACTIVE, COMPLETED, TERMINATED, ARCHIVED, MODERATED, INVALID
    choices: tuple[PollChoice, ...]
    duration: int
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"


@dataclass(frozen=True, slots=True)
class EventSubSubscription:
    id: str
    type: str
    version: str
    status: str
    condition: Mapping[str, str] = field(default_factory=dict)
    transport: Mapping[str, str] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    cost: int = 0

    @property
    def method(self) -> str:
        return self.transport.get("method", "")


@dataclass(frozen=True, slots=True)
class FollowedChannel:
    broadcaster_id: str
    broadcaster_login: str
    broadcaster_name: str
    followed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Tokens from the OAuth token endpoint. ``expires_at`` is an aware UTC datetime."""

    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"

    def expires_within(self, seconds: float, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at - now <= dt.timedelta(
            seconds=seconds
        )


@dataclass(frozen=True, slots=True)
class SentChatMessage:
    message_id: str
    is_sent: bool
    drop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paginated Helix list; ``cursor`` is None on the last page."""

    items: tuple[T, ...]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class StreamMarker:
    id: str
    description: str
    position_seconds: int
