import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from premiere_ecoute.core.errors import InvalidState
from premiere_ecoute.sessions.scores.timeline import Attribution, Timeline

T0 = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def three_tracks() -> Timeline:
    """Track 1 from 0 s, track 2 from 100 s, track 3 from 200 s, stopped at 300 s."""
    timeline = Timeline.start(1, at(0))
    timeline.change_track(2, at(100))
    timeline.open_window(2, at(100))
    timeline.change_track(3, at(200))
    timeline.open_window(3, at(200))
    timeline.stop(at(300))
    return timeline


def test_vote_goes_to_the_track_playing_at_send_time_without_delay() -> None:
    timeline = three_tracks()
    assert timeline.attribute(at(50), 0) == Attribution(1)
    assert timeline.attribute(at(100), 0) == Attribution(2)
    assert timeline.attribute(at(250), 0) == Attribution(3)


def test_stream_delay_moves_a_vote_back_to_the_track_viewers_were_hearing() -> None:
    timeline = three_tracks()
    assert timeline.attribute(at(105), 10) == Attribution(1)
    assert timeline.attribute(at(110), 10) == Attribution(2)


def test_vote_before_the_start_is_rejected() -> None:
    timeline = three_tracks()
    assert timeline.attribute(at(-1), 0) == Attribution(None, "before_start")
    assert timeline.attribute(at(5), 10) == Attribution(None, "before_start")


def test_vote_after_stop_plus_delay_is_rejected_but_within_the_delay_is_kept() -> None:
    timeline = three_tracks()
    assert timeline.attribute(at(300), 0) == Attribution(3)
    assert timeline.attribute(at(301), 0) == Attribution(None, "after_stop")
    assert timeline.attribute(at(315), 15) == Attribution(3)
    assert timeline.attribute(at(316), 15) == Attribution(None, "after_stop")


def test_vote_after_window_closed_is_rejected() -> None:
    timeline = Timeline.start(1, at(0))
    timeline.close_window(1, at(30))
    assert timeline.attribute(at(29), 0).accepted
    rejected = timeline.attribute(at(30), 0)
    assert rejected == Attribution(1, "window_closed")
    assert not rejected.accepted


def test_reopened_window_accepts_votes_again() -> None:
    timeline = Timeline.start(1, at(0))
    timeline.close_window(1, at(30))
    timeline.open_window(1, at(60))
    assert timeline.attribute(at(45), 0).reason == "window_closed"
    assert timeline.attribute(at(61), 0) == Attribution(1)
    assert timeline.votes_open


def test_replayed_track_is_decided_by_the_timeline_entry_at_that_moment() -> None:
    timeline = Timeline.start(1, at(0))
    timeline.change_track(2, at(100))
    timeline.close_window(1, at(100))
    timeline.open_window(2, at(100))
    timeline.change_track(1, at(200))  # "previous": track 1 again
    timeline.close_window(2, at(200))
    timeline.open_window(1, at(200))
    assert timeline.attribute(at(150), 0) == Attribution(2)
    assert timeline.attribute(at(250), 0) == Attribution(1)
    assert timeline.attribute(at(50), 0) == Attribution(1)
    assert timeline.current_track_id == 1


def test_track_never_opened_rejects_votes() -> None:
    timeline = Timeline.start(1, at(0))
    timeline.change_track(2, at(100))
    assert timeline.attribute(at(150), 0) == Attribution(2, "window_closed")
    assert not timeline.votes_open


def test_opening_an_open_window_or_closing_a_closed_one_changes_nothing() -> None:
    timeline = Timeline.start(1, at(0))
    timeline.open_window(1, at(10))
    timeline.close_window(1, at(20))
    timeline.close_window(1, at(40))
    assert timeline.attribute(at(5), 0).accepted
    assert timeline.attribute(at(30), 0).reason == "window_closed"


def test_stopped_timeline_refuses_track_changes_and_keeps_first_stop() -> None:
    timeline = three_tracks()
    with pytest.raises(InvalidState):
        timeline.change_track(1, at(400))
    timeline.stop(at(500))
    assert timeline.stopped_at == at(300)
    assert not timeline.votes_open


def test_change_slightly_in_the_past_is_kept_in_order() -> None:
    timeline = Timeline.start(1, at(10))
    timeline.change_track(2, at(9))
    assert [when for _, when in timeline.entries] == [at(10), at(10)]
    assert timeline.track_at(at(10)) == 2


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Timeline.start(1, datetime(2026, 1, 1))


def test_json_round_trip_keeps_every_answer() -> None:
    timeline = three_tracks()
    restored = Timeline.from_json(json.loads(json.dumps(timeline.to_json())))
    assert restored.to_json() == timeline.to_json()
    for second in range(-5, 320, 5):
        assert restored.attribute(at(second), 3) == timeline.attribute(at(second), 3)


def test_from_json_refuses_unsorted_entries() -> None:
    data = three_tracks().to_json()
    data["entries"].reverse()
    with pytest.raises(ValueError, match="chronological"):
        Timeline.from_json(data)


# ---- property: bisect answers equal a plain scan of the history ----------------------------

ACTIONS = st.lists(
    st.tuples(st.sampled_from(["change", "open", "close"]), st.integers(1, 3), st.integers(0, 20)),
    max_size=25,
)


def linear_attribute(
    history: list[tuple[str, int, datetime]], sent: datetime, delay: int
) -> Attribution:
    """Replays the recorded actions up to the vote's moment, the slow obvious way."""
    moment = sent - timedelta(seconds=delay)
    stop = next((when for kind, _, when in history if kind == "stop"), None)
    if stop is not None and moment > stop:
        return Attribution(None, "after_stop")
    current: int | None = None
    open_tracks: set[int] = set()
    for kind, track, when in history:
        if when > moment:
            break
        if kind == "change":
            current = track
        elif kind == "open":
            open_tracks.add(track)
        elif kind == "close":
            open_tracks.discard(track)
    if current is None:
        return Attribution(None, "before_start")
    return Attribution(current) if current in open_tracks else Attribution(current, "window_closed")


@given(ACTIONS, st.integers(0, 400), st.integers(0, 30))
def test_attribution_equals_a_linear_replay(
    actions: list[tuple[str, int, int]], sent_s: int, delay: int
) -> None:
    timeline = Timeline.start(1, at(0))
    history: list[tuple[str, int, datetime]] = [("change", 1, at(0)), ("open", 1, at(0))]
    clock = 0
    for kind, track, gap in actions:
        clock += gap
        if kind == "change":
            timeline.change_track(track, at(clock))
        elif kind == "open":
            timeline.open_window(track, at(clock))
        else:
            timeline.close_window(track, at(clock))
        history.append((kind, track, at(clock)))
    timeline.stop(at(clock + 10))
    history.append(("stop", 0, at(clock + 10)))
    assert timeline.attribute(at(sent_s), delay) == linear_attribute(history, at(sent_s), delay)
