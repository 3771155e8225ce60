"""A simulated Spotify player: devices, a context, and a position that advances with a clock.

Time is read lazily: every read first "catches up" with the clock, ending tracks and moving to
the next one of the context, so no background task is needed. ``speed`` > 1 makes tracks end
sooner (tests use large factors).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from premiere_ecoute.apis.spotify.fake.catalogue import FakeTrack

Clock = Callable[[], float]


@dataclass(slots=True)
class FakeDevice:
    id: str
    name: str
    type: str = "Speaker"
    is_active: bool = False
    volume_percent: int = 65

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_active": self.is_active,
            "is_private_session": False,
            "is_restricted": False,
            "name": self.name,
            "type": self.type,
            "volume_percent": self.volume_percent,
            "supports_volume": True,
        }


def device_id_for(owner: str, name: str) -> str:
    return hashlib.sha1(f"{owner}/{name}".encode()).hexdigest()


class FakePlayer:
    def __init__(self, owner: str, clock: Clock, speed: float) -> None:
        self.owner = owner
        self._clock = clock
        self.speed = speed
        self.devices = [
            FakeDevice(device_id_for(owner, "Fake Speaker"), "Fake Speaker", is_active=True)
        ]
        self.context_uri: str | None = None
        self.tracks: tuple[FakeTrack, ...] = ()
        self._index = 0
        self.is_playing = False
        self.shuffle = False
        self.repeat = "off"
        self._offset_ms = 0.0
        self._anchor = clock()
        self.changed_at = clock()

    # Time ----------------------------------------------------------------------------

    def _elapsed_ms(self) -> float:
        return (self._clock() - self._anchor) * 1000.0 * self.speed if self.is_playing else 0.0

    def _rebase(self, offset_ms: float) -> None:
        self._offset_ms = offset_ms
        self._anchor = self._clock()
        self.changed_at = self._anchor

    def catch_up(self) -> None:
        """Apply the time that passed: end tracks, auto-advance, stop after the last."""
        if not self.is_playing or not self.tracks:
            return
        position = self._offset_ms + self._elapsed_ms()
        moved = False
        while position >= self.tracks[self._index].duration_ms:
            position -= self.tracks[self._index].duration_ms
            moved = True
            if self.repeat == "track":
                continue
            if self._index + 1 < len(self.tracks):
                self._index += 1
            elif self.repeat == "context":
                self._index = 0
            else:
                # Spotify stops at the end of the context, leaving the last track loaded.
                self.is_playing = False
                self._rebase(self.tracks[self._index].duration_ms)
                return
        if moved:
            anchor = self._clock()
            self._offset_ms = position
            self._anchor = anchor
            self.changed_at = anchor

    @property
    def progress_ms(self) -> int:
        self.catch_up()
        return int(self._offset_ms + self._elapsed_ms())

    @property
    def index(self) -> int:
        """0-based position of the current track in the context."""
        self.catch_up()
        return self._index

    @property
    def current(self) -> FakeTrack | None:
        self.catch_up()
        return self.tracks[self._index] if self.tracks else None

    # Devices -------------------------------------------------------------------------

    @property
    def active_device(self) -> FakeDevice | None:
        return next((d for d in self.devices if d.is_active), None)

    def find_device(self, device_id: str) -> FakeDevice | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def activate(self, device_id: str) -> None:
        for device in self.devices:
            device.is_active = device.id == device_id

    # Commands (the routes check devices before calling these) ------------------------

    def load(
        self,
        context_uri: str | None,
        tracks: tuple[FakeTrack, ...],
        index: int,
        position_ms: int = 0,
    ) -> None:
        self.catch_up()
        self.context_uri = context_uri
        self.tracks = tracks
        self._index = index
        self.is_playing = True
        self._rebase(float(position_ms))

    def resume(self) -> None:
        self.catch_up()
        if self.tracks and not self.is_playing:
            position = self._offset_ms
            if position >= self.tracks[self._index].duration_ms:
                position = 0.0
            self.is_playing = True
            self._rebase(position)

    def pause(self) -> None:
        position = self.progress_ms
        self.is_playing = False
        self._rebase(float(position))

    def skip(self, step: int) -> None:
        self.catch_up()
        if not self.tracks:
            return
        target = self._index + step
        if target >= len(self.tracks):
            self._index = len(self.tracks) - 1
            self.is_playing = False
            self._rebase(float(self.tracks[self._index].duration_ms))
            return
        self._index = max(0, target)
        self.is_playing = True
        self._rebase(0.0)

    def skip_to(self, position: int) -> None:
        self.catch_up()
        if not 0 <= position < len(self.tracks):
            raise IndexError(f"no track at position {position}")
        self._index = position
        self.is_playing = True
        self._rebase(0.0)

    # Rendering -----------------------------------------------------------------------

    def state_json(self, track_json: dict[str, Any] | None, wall_ms: int) -> dict[str, Any]:
        self.catch_up()
        device = self.active_device
        return {
            "device": device.to_json() if device else None,
            "repeat_state": self.repeat,
            "shuffle_state": self.shuffle,
            "context": (
                {"type": self.context_uri.split(":")[1], "uri": self.context_uri}
                if self.context_uri
                else None
            ),
            "timestamp": wall_ms,
            "progress_ms": self.progress_ms,
            "is_playing": self.is_playing,
            "item": track_json,
            "currently_playing_type": "track" if track_json else "unknown",
            "actions": {"disallows": {}},
        }
