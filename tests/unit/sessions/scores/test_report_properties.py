"""The live counters must always equal the report rebuilt from raw facts (SPEC §5)."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from premiere_ecoute.sessions.scores.report import ReportState, TrackRef
from premiere_ecoute.sessions.scores.scale import Scale
from tests.support.recompute import (
    PollBallots,
    StreamerVote,
    ViewerVote,
    recompute_report,
)

ALBUM = [
    TrackRef(track_id, f"sp{track_id}", n, f"Song {n}")
    for n, track_id in enumerate((11, 12, 13), 1)
]

SCALES = st.sampled_from(
    [
        Scale.parse("0-10"),
        Scale.parse("1-5"),
        Scale.parse(["-2", "-1", "0", "1", "2"]),
        Scale.parse("smash-pass"),
        Scale.parse(["Banger", "ok", "skip"]),
    ]
)
TRACKS = st.sampled_from([t.track_id for t in ALBUM])
VIEWERS = st.sampled_from(["v1", "v2", "v3", "v4"])
OPTION_AT = st.integers(0, 10)  # reduced modulo the scale size

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("viewer"), TRACKS, VIEWERS, OPTION_AT),
        st.tuples(st.just("streamer"), TRACKS, OPTION_AT),
        st.tuples(
            st.just("poll"),
            TRACKS,
            st.integers(0, 1),
            st.dictionaries(OPTION_AT, st.integers(0, 6), max_size=4),
        ),
        st.tuples(st.just("persist")),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(SCALES, OPERATIONS)
def test_incremental_report_equals_recompute_and_survives_persistence(
    scale: Scale, operations: list[tuple[Any, ...]]
) -> None:
    state = ReportState(scale)
    latest: dict[tuple[int, str], str] = {}  # what the database would hold
    viewer_votes: list[ViewerVote] = []
    streamer_votes: list[StreamerVote] = []
    ballots: list[PollBallots] = []
    size = len(scale.options)

    for order, operation in enumerate(operations):
        kind = operation[0]
        if kind == "viewer":
            _, track, viewer, at = operation
            option = scale.options[at % size]
            state.apply_viewer_rating(track, viewer, option, latest.get((track, viewer)))
            latest[(track, viewer)] = option
            viewer_votes.append(ViewerVote(track, viewer, option, order))
        elif kind == "streamer":
            _, track, at = operation
            option = scale.options[at % size]
            state.apply_streamer_rating(track, option)
            streamer_votes.append(StreamerVote(track, option, order))
        elif kind == "poll":
            _, track, poll_no, raw = operation
            counts: dict[str, int] = {}
            for at, count in raw.items():
                option = scale.options[at % size]
                counts[option] = counts.get(option, 0) + count
            poll_id = f"{track}-{poll_no}"
            state.set_poll_ballots(track, poll_id, counts)
            ballots.append(PollBallots(track, poll_id, counts, order))
        else:
            stored = json.loads(json.dumps(state.to_json()))
            restored = ReportState.from_json(stored)
            assert restored.to_json() == stored
            assert restored.to_report(1, "active", ALBUM) == state.to_report(1, "active", ALBUM)
            state = restored

    expected = recompute_report(
        session_id=1,
        status="active",
        scale=scale,
        tracks=ALBUM,
        viewer_votes=viewer_votes,
        streamer_votes=streamer_votes,
        poll_ballots=ballots,
    )
    assert state.to_report(1, "active", ALBUM) == expected
