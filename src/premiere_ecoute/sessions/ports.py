"""The ports that session handlers need from the outside world.

Handlers depend on these Protocols only; ``bootstrap`` wires adapters over the Spotify and
Twitch clients (or in-memory fakes in tests).

EventSub subscription types are Twitch's names (``channel.chat.message``...): they are what a
session subscribes to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from premiere_ecoute.core.clock import Clock
from premiere_ecoute.core.display import rounded_score
from premiere_ecoute.core.errors import ExternalServiceError
from premiere_ecoute.discography.models import Device, PlaybackState
from premiere_ecoute.discography.ports import Catalog


class Playback(Protocol):
    """A streamer's Spotify player. ``user_id`` is our user id; the adapter loads credentials."""

    async def ensure_device(self, user_id: int, device_id: str | None = None) -> str:
        """Return a usable device id: the active one, else transfer to ``device_id`` or the
        first. Raises ExternalServiceError("Open Spotify on a device first") when none."""
        ...

    async def prepare(self, user_id: int, device_id: str) -> None:
        """Shuffle off, repeat off."""
        ...

    async def play_context(
        self, user_id: int, context_uri: str, position: int, device_id: str | None = None
    ) -> None: ...
    async def pause(self, user_id: int) -> None: ...
    async def state(self, user_id: int) -> PlaybackState | None: ...

    async def list_devices(self, user_id: int) -> list[Device]:
        """The streamer's Spotify devices, the active one flagged ``is_active``."""
        ...

    async def transfer(self, user_id: int, device_id: str) -> None:
        """Move playback to ``device_id``, keeping its playing/paused state."""
        ...

    async def resume(self, user_id: int) -> None:
        """Resume what was paused, where it was paused."""
        ...


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    type: str


class EventSub(Protocol):
    async def subscribe(self, broadcaster_id: str, types: Sequence[str]) -> list[Subscription]: ...
    async def unsubscribe(self, subscription_ids: Sequence[str]) -> None: ...
    async def live(self) -> dict[str, str]:
        """Id -> type of every subscription Twitch lists as live (enabled or being verified)."""
        ...


class Polls(Protocol):
    async def create_poll(
        self, broadcaster_id: str, title: str, choices: Sequence[str], duration_s: int
    ) -> str:
        """Return the Twitch poll id. Raises ExternalServiceError when Twitch refuses."""
        ...

    async def end_poll(self, broadcaster_id: str, poll_id: str) -> None: ...


class Chat(Protocol):
    def announce(self, broadcaster_id: str, text: str) -> None:
        """Queue a chat message; never raises, never blocks."""
        ...


MarkerRefusal = Literal["offline", "scope", "rate_limited", "error"]


class MarkerRefused(ExternalServiceError):
    """Twitch did not mark the stream: the channel is not live (or keeps no VODs), the
    streamer did not grant ``channel:manage:broadcast``, the rate limit, or any other error."""

    def __init__(self, message: str, *, reason: MarkerRefusal) -> None:
        super().__init__(message, service="twitch")
        self.reason: MarkerRefusal = reason


class StreamMarkers(Protocol):
    async def create_marker(self, broadcaster_id: str, description: str) -> None:
        """Mark the broadcaster's live stream now. Raises MarkerRefused."""


class Translator(Protocol):
    """The user-facing language of texts the domain writes (chat announcements)."""

    def gettext(self, language: str, msgid: str) -> str: ...
    def ngettext(self, language: str, singular: str, plural: str, n: int) -> str: ...
    def score(self, language: str, value: Any) -> str:
        """A score as every page shows it (one decimal, half up, the language's separator)."""
        ...


class EnglishOnly:
    """A ``Translator`` that keeps the source texts (English)."""

    def gettext(self, language: str, msgid: str) -> str:
        return msgid

    def ngettext(self, language: str, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def score(self, language: str, value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, str):
            return value
        return str(rounded_score(value))


@dataclass
class SessionPorts:
    """Everything a session command may call outside the database."""

    catalog: Catalog
    playback: Playback
    eventsub: EventSub
    polls: Polls
    chat: Chat
    clock: Clock
    markers: StreamMarkers
    translator: Translator = field(default_factory=EnglishOnly)


CHAT_TYPES = ("channel.chat.message",)
POLL_TYPES = ("channel.poll.begin", "channel.poll.progress", "channel.poll.end")


def needed_types(vote_mode: str) -> tuple[str, ...]:
    """The EventSub subscriptions a session in ``vote_mode`` needs."""
    return CHAT_TYPES + (POLL_TYPES if vote_mode != "chat" else ())
