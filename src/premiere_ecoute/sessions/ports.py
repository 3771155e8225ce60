"""The ports that session handlers need from the outside world.

Handlers depend on these Protocols only; ``bootstrap`` wires adapters over the Spotify and
Twitch clients (or in-memory fakes in tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from premiere_ecoute.discography.domain import AlbumInfo, Device, PlaybackState, PlaylistInfo


class Catalog(Protocol):
    """Spotify catalogue with the app token."""

    async def get_album(self, album_id: str) -> AlbumInfo: ...
    async def get_playlist(self, playlist_id: str, user_id: int | None = None) -> PlaylistInfo:
        """With ``user_id``, read as that streamer: Spotify serves a playlist's items only
        to its owner and collaborators."""
        ...

    async def search_albums(self, query: str, limit: int = 10) -> list[AlbumInfo]: ...


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
