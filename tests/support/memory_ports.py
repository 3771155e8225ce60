"""In-memory implementations of the session ports, for tests of the domain and for steps
that must fail on demand (``fail_on``). The HTTP fakes of Spotify and Twitch stand in for the
real services everywhere else."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from premiere_ecoute.core.clock import Clock, SystemClock
from premiere_ecoute.core.errors import ExternalServiceError
from premiere_ecoute.discography.models import (
    AlbumInfo,
    Device,
    PlaybackState,
    PlaylistInfo,
    TrackInfo,
)
from premiere_ecoute.sessions.ports import MarkerRefused, Subscription, Translator
from premiere_ecoute.web.app import WEB_DIR
from premiere_ecoute.web.i18n import CatalogTranslator


def sample_album(spotify_id: str = "4aawyAB9vmqN3uQ7FjRGTy", tracks: int = 4) -> AlbumInfo:
    names = [
        "Morning Static",
        "Glass Harbour",
        "Paper Lanterns",
        "Slow Orbit",
        "Tidewater",
        "Northern Lines",
        "Quiet Engines",
        "Last Ferry",
        "Halflight",
        "Ember Room",
    ]
    return AlbumInfo(
        spotify_id=spotify_id,
        name="Harbour Lights",
        artists=("The Quiet Engines",),
        release_date=dt.date(2024, 3, 1),
        cover_url=None,
        total_tracks=tracks,
        tracks=tuple(
            TrackInfo(
                spotify_id=f"{spotify_id[:12]}trk{i:07d}",
                name=names[i % 10],
                track_number=i + 1,
                duration_ms=180_000 + i * 7_000,
            )
            for i in range(tracks)
        ),
    )


@dataclass
class Recorder:
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    fail_on: dict[str, ExternalServiceError] = field(default_factory=dict)

    def hit(self, name: str, *args: object) -> None:
        if name in self.fail_on:
            raise self.fail_on.pop(name)
        self.calls.append((name, args))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


class MemoryCatalog:
    def __init__(self, albums: Sequence[AlbumInfo] = (), playlists: Sequence[PlaylistInfo] = ()):
        self.albums = {a.spotify_id: a for a in albums} or {
            sample_album().spotify_id: sample_album()
        }
        self.playlists = {p.spotify_id: p for p in playlists}

    async def get_album(self, album_id: str) -> AlbumInfo:
        if album_id not in self.albums:
            raise ExternalServiceError(f"Spotify has no album {album_id}", service="spotify")
        return self.albums[album_id]

    async def get_playlist(self, playlist_id: str, user_id: int | None = None) -> PlaylistInfo:
        if playlist_id not in self.playlists:
            raise ExternalServiceError(f"Spotify has no playlist {playlist_id}", service="spotify")
        return self.playlists[playlist_id]

    async def search_albums(self, query: str, limit: int = 10) -> list[AlbumInfo]:
        q = query.lower()
        return [a for a in self.albums.values() if q in a.name.lower() or q in a.artist.lower()][
            :limit
        ]


class MemoryPlayback(Recorder):
    """``devices`` are ids (named after themselves); ``active_device`` is the one playing, the
    first device when None. ``playing`` and ``paused`` hold (context uri, position) per user."""

    def __init__(self) -> None:
        super().__init__()
        self.playing: dict[int, tuple[str, int]] = {}
        self.paused: dict[int, tuple[str, int]] = {}
        self.devices: list[str] = ["device-1"]
        self.active_device: str | None = None

    def _active(self) -> str | None:
        if self.active_device in self.devices:
            return self.active_device
        return self.devices[0] if self.devices else None

    async def ensure_device(self, user_id: int, device_id: str | None = None) -> str:
        self.hit("ensure_device", user_id)
        if not self.devices:
            raise ExternalServiceError("Open Spotify on a device first", service="spotify")
        chosen = device_id if device_id in self.devices else self._active() or self.devices[0]
        self.active_device = chosen
        return device_id or chosen

    async def prepare(self, user_id: int, device_id: str) -> None:
        self.hit("prepare", user_id, device_id)

    async def play_context(
        self, user_id: int, context_uri: str, position: int, device_id: str | None = None
    ) -> None:
        self.hit("play_context", user_id, context_uri, position)
        self.playing[user_id] = (context_uri, position)
        self.paused.pop(user_id, None)

    async def pause(self, user_id: int) -> None:
        self.hit("pause", user_id)
        current = self.playing.pop(user_id, None)
        if current is not None:
            self.paused[user_id] = current

    async def resume(self, user_id: int) -> None:
        self.hit("resume", user_id)
        if not self.devices:
            raise ExternalServiceError("Open Spotify on a device first", service="spotify")
        current = self.paused.pop(user_id, None)
        if current is not None:
            self.playing[user_id] = current

    async def state(self, user_id: int) -> PlaybackState | None:
        self.hit("state", user_id)
        return None

    async def list_devices(self, user_id: int) -> list[Device]:
        self.hit("list_devices", user_id)
        active = self._active()
        return [Device(id=d, name=d, type="Computer", is_active=d == active) for d in self.devices]

    async def transfer(self, user_id: int, device_id: str) -> None:
        self.hit("transfer", user_id, device_id)
        if device_id not in self.devices:
            raise ExternalServiceError("Device not found", service="spotify")
        self.active_device = device_id


class MemoryEventSub(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self.active: dict[str, Subscription] = {}

    async def subscribe(self, broadcaster_id: str, types: Sequence[str]) -> list[Subscription]:
        self.hit("subscribe", broadcaster_id, tuple(types))
        subs = [Subscription(id=f"sub-{next(self._ids)}", type=t) for t in types]
        self.active.update({s.id: s for s in subs})
        return subs

    async def unsubscribe(self, subscription_ids: Sequence[str]) -> None:
        self.hit("unsubscribe", tuple(subscription_ids))
        for sid in subscription_ids:
            self.active.pop(sid, None)

    async def live(self) -> dict[str, str]:
        self.hit("live")
        return {sid: sub.type for sid, sub in self.active.items()}


class MemoryPolls(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self.open: dict[str, tuple[str, str, tuple[str, ...]]] = {}

    async def create_poll(
        self, broadcaster_id: str, title: str, choices: Sequence[str], duration_s: int
    ) -> str:
        self.hit("create_poll", broadcaster_id, title)
        poll_id = f"poll-{next(self._ids)}"
        self.open[poll_id] = (broadcaster_id, title, tuple(choices))
        return poll_id

    async def end_poll(self, broadcaster_id: str, poll_id: str) -> None:
        self.hit("end_poll", broadcaster_id, poll_id)
        self.open.pop(poll_id, None)


class MemoryChat:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def announce(self, broadcaster_id: str, text: str) -> None:
        self.sent.append((broadcaster_id, text))


class MemoryMarkers(Recorder):
    """Stream markers: ``refuse`` makes the next ones fail with that reason."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[tuple[str, str]] = []
        self.refuse: str | None = None

    async def create_marker(self, broadcaster_id: str, description: str) -> None:
        self.hit("create_marker", broadcaster_id, description)
        if self.refuse is not None:
            raise MarkerRefused(f"refused: {self.refuse}", reason=self.refuse)  # type: ignore[arg-type]
        self.marked.append((broadcaster_id, description))


@dataclass
class MemoryPorts:
    catalog: MemoryCatalog = field(default_factory=MemoryCatalog)
    playback: MemoryPlayback = field(default_factory=MemoryPlayback)
    eventsub: MemoryEventSub = field(default_factory=MemoryEventSub)
    polls: MemoryPolls = field(default_factory=MemoryPolls)
    chat: MemoryChat = field(default_factory=MemoryChat)
    clock: Clock = field(default_factory=SystemClock)
    markers: MemoryMarkers = field(default_factory=MemoryMarkers)
    translator: Translator = field(default_factory=lambda: CatalogTranslator(WEB_DIR / "locale"))
