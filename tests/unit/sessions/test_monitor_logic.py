"""The monitor's decisions from single player readings (no I/O)."""

from __future__ import annotations

from premiere_ecoute.discography.models import PlaybackState
from premiere_ecoute.sessions.monitor_logic import (
    FINISHED,
    FOLLOW,
    HOLD,
    Action,
    Memory,
    decide,
    sight,
)
from premiere_ecoute.sessions.queries import Followed

ALBUM = Followed(1, 7, "spotify:album:A", ("t1", "t2", "t3", "t2"))


def _state(
    track: str | None,
    *,
    playing: bool = True,
    progress: int = 1000,
    context: str = ALBUM.context_uri,
) -> PlaybackState:
    return PlaybackState(playing, None, context, track, progress, 200_000)


def _decide(state: PlaybackState | None, current: int, memory: Memory, now: float = 0.0) -> list:
    seen = sight(ALBUM, state, current)
    return decide(ALBUM, seen, current, memory, now=now, settle_s=5.0, near_end_ms=3000)


def test_track_listed_twice_resolves_to_the_nearest_occurrence() -> None:
    assert sight(ALBUM, _state("t2"), 3).index == 3
    assert sight(ALBUM, _state("t2"), 0).index == 1


def test_lagging_player_after_a_move_from_the_app_is_not_followed_back() -> None:
    memory = Memory()
    assert _decide(_state("t1"), 0, memory, now=0) == []
    # The control page moved the session to track 3; Spotify still reports track 1.
    assert _decide(_state("t1"), 2, memory, now=1) == []
    assert _decide(_state("t3"), 2, memory, now=2) == []
    # Long after the move, a change in Spotify is the streamer's and is followed.
    assert _decide(_state("t1"), 2, memory, now=10) == [Action(FOLLOW, 0)]


def test_player_reset_to_the_first_track_after_the_album_counts_as_finished() -> None:
    memory = Memory(known_index=3)
    assert _decide(_state("t2", progress=199_000), 3, memory) == []
    assert memory.near_end
    assert _decide(_state("t1", playing=False, progress=0), 3, memory) == [Action(FINISHED)]
    assert _decide(_state("t1", playing=False, progress=0), 3, memory) == []


def test_nothing_playing_right_after_the_last_track_counts_as_finished() -> None:
    memory = Memory(known_index=3)
    _decide(_state("t2", progress=199_500), 3, memory)
    assert _decide(None, 3, memory) == [Action(FINISHED)]


def test_pausing_mid_track_is_neither_finished_nor_a_change() -> None:
    memory = Memory(known_index=3)
    assert _decide(_state("t2", playing=False, progress=50_000), 3, memory) == []
    assert _decide(None, 3, memory) == []


def test_leaving_warns_once_and_coming_back_follows() -> None:
    memory = Memory(known_index=0)
    assert _decide(_state("x9", context="spotify:album:B"), 0, memory) == []
    assert _decide(_state("t3", context="spotify:album:B"), 0, memory) == []
    assert _decide(_state("t3", context=None), 0, memory) == []  # our track, not our context
    assert _decide(_state("t3"), 0, memory) == [Action(FOLLOW, 2)]


HELD = Followed(1, 7, "spotify:album:A", ("t1", "t2", "t3", "t2"), auto_advance=False)


def _decide_held(state: PlaybackState | None, current: int, memory: Memory) -> list:
    seen = sight(HELD, state, current)
    return decide(HELD, seen, current, memory, now=100.0, settle_s=5.0, near_end_ms=3000)


def test_without_auto_advance_the_natural_end_of_a_track_holds_instead_of_following() -> None:
    memory = Memory(known_index=0)
    assert _decide_held(_state("t1", progress=198_500), 0, memory) == []
    # Spotify moved on to track 2 by itself: pause there, the session stays on track 1.
    assert _decide_held(_state("t2", progress=500), 0, memory) == [Action(HOLD, 1)]
    assert memory.holding == 1
    # Paused at track 2 while the chat finishes rating track 1: nothing more to do.
    assert _decide_held(_state("t2", playing=False, progress=600), 0, memory) == []
    # The streamer pressed Next: the session reached track 2, the hold is over.
    assert _decide_held(_state("t2", progress=700), 1, memory) == []
    assert memory.holding is None


def test_without_auto_advance_a_skip_made_in_spotify_is_still_followed() -> None:
    memory = Memory(known_index=0)
    assert _decide_held(_state("t1", progress=50_000), 0, memory) == []
    assert _decide_held(_state("t3", progress=100), 0, memory) == [Action(FOLLOW, 2)]


def test_with_auto_advance_the_natural_end_is_followed() -> None:
    memory = Memory(known_index=0)
    assert _decide(_state("t1", progress=198_500), 0, memory) == []
    assert _decide(_state("t2", progress=500), 0, memory) == [Action(FOLLOW, 1)]
