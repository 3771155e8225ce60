"""What the player monitor concludes from one reading of Spotify's player (no I/O).

``sight`` places the player relative to the session (idle, outside the album, or at a
position of it); ``decide`` turns that sighting and the monitor's memory into actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from premiere_ecoute.discography.models import PlaybackState
from premiere_ecoute.sessions.queries import Followed

# A stopped player this close to the end of the last track has finished the album.
END_MARGIN_MS = 3000

FOLLOW = "follow"
# auto_advance off: Spotify went on to the next track by itself; pause there and wait.
HOLD = "hold"
FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class Sighting:
    kind: Literal["idle", "outside", "album"]
    index: int | None = None
    is_playing: bool = False
    progress_ms: int = 0
    duration_ms: int = 0

    @property
    def remaining_ms(self) -> int:
        return max(0, self.duration_ms - self.progress_ms)


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    index: int | None = None


@dataclass
class Memory:
    """What one monitor remembers between readings."""

    known_index: int | None = None
    settle_until: float = 0.0
    outside: bool = False
    finished: bool = False
    near_end: bool = False
    track_ending: bool = False  # the current track was about to end at the last reading
    holding: int | None = None  # paused at this position, waiting for the streamer


def sight(f: Followed, state: PlaybackState | None, current: int | None) -> Sighting:
    if state is None or state.track_spotify_id is None:
        return Sighting("idle")
    ids = f.track_spotify_ids
    track = state.track_spotify_id
    if state.context_uri != f.context_uri or track not in ids:
        return Sighting("outside", is_playing=state.is_playing)
    cur = current or 0
    if 0 <= cur < len(ids) and ids[cur] == track:
        index = cur
    else:
        # A track listed twice: the occurrence nearest to the current one.
        index = min((i for i, t in enumerate(ids) if t == track), key=lambda i: abs(i - cur))
    return Sighting("album", index, state.is_playing, state.progress_ms, state.duration_ms)


def decide(
    f: Followed,
    seen: Sighting,
    current: int | None,
    memory: Memory,
    *,
    now: float,
    settle_s: float,
    near_end_ms: float,
) -> list[Action]:
    """Actions for one reading; updates ``memory``.

    ``settle_s``: after someone else moved the session (control page, API), Spotify's state
    may lag for a moment; a mismatch seen during that time is not followed back.
    """
    last = len(f.track_spotify_ids) - 1
    current = current or 0
    if current != memory.known_index:
        if memory.known_index is not None:
            memory.settle_until = now + settle_s
        memory.known_index = current
    if seen.kind == "idle":
        # Nothing plays any more right after the last track was about to end.
        if memory.near_end and current == last and not memory.finished:
            memory.finished = True
            return [Action(FINISHED)]
        return []
    if seen.kind == "outside":
        if memory.outside:
            return []
        memory.outside = True
        memory.near_end = False
        return []
    actions: list[Action] = []
    memory.outside = False
    assert seen.index is not None
    at_end = seen.index == last and not seen.is_playing and seen.remaining_ms <= END_MARGIN_MS
    # Some players reset to the first track when a context ends: not a jump to follow.
    reset_after_end = memory.near_end and not seen.is_playing and seen.index != current
    if at_end or reset_after_end:
        memory.near_end = False
        if not memory.finished:
            memory.finished = True
            actions.append(Action(FINISHED))
        return actions
    memory.near_end = seen.index == last and seen.is_playing and seen.remaining_ms <= near_end_ms
    ended_naturally = memory.track_ending and seen.index == current + 1
    memory.track_ending = (
        seen.index == current and seen.is_playing and seen.remaining_ms <= near_end_ms
    )
    if seen.index == current:
        memory.holding = None
    elif memory.holding == seen.index and not seen.is_playing:
        return actions  # still waiting for the streamer's Next
    elif ended_naturally and not f.auto_advance:
        memory.holding = seen.index
        actions.append(Action(HOLD, seen.index))
        return actions
    if seen.index != current:
        if now < memory.settle_until or (memory.finished and not seen.is_playing):
            # Lagging state after a move from the app, or a player left stopped elsewhere
            # once the album ended: neither is the streamer choosing a track.
            return actions
        memory.finished = False
        memory.known_index = seen.index
        actions.append(Action(FOLLOW, seen.index))
    elif seen.is_playing and seen.remaining_ms > END_MARGIN_MS:
        memory.finished = False
    return actions
