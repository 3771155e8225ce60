import math

import pytest

from premiere_ecoute.core.errors import InvalidState, ValidationFailed
from premiere_ecoute.sessions.scores.report import ReportState, TrackRef
from premiere_ecoute.sessions.scores.scale import Scale
from tests.support.recompute import (
    PollBallots,
    StreamerVote,
    ViewerVote,
    recompute_report,
)

ALBUM = [
    TrackRef(101, "sp1", 1, "Opening"),
    TrackRef(102, "sp2", 2, "Middle"),
    TrackRef(103, "sp3", 3, "Closing"),
]


def worked_example() -> ReportState:
    """SPEC §5 worked example on 0-10; track 103 stays unrated."""
    state = ReportState(Scale.parse("0-10"))
    state.apply_viewer_rating(101, "A", "8")
    state.apply_viewer_rating(101, "B", "6")
    state.apply_viewer_rating(101, "C", "3")
    state.apply_viewer_rating(101, "C", "7", previous_option="3")
    state.set_poll_ballots(101, "poll-1", {"5": 1, "8": 1})  # progress, then the final totals
    state.set_poll_ballots(101, "poll-1", {"5": 2, "8": 3, "10": 1})
    state.apply_streamer_rating(101, "9")
    state.apply_viewer_rating(102, "A", "9")
    state.apply_viewer_rating(102, "D", "5")
    state.apply_viewer_rating(102, "E", "8")
    state.set_poll_ballots(102, "poll-2", {"6": 1, "9": 2, "10": 2})
    state.apply_streamer_rating(102, "7")
    return state


def test_worked_example_of_the_spec() -> None:
    report = worked_example().to_report(42, "stopped", ALBUM)
    first, second, third = report["tracks"]
    assert math.isclose(first["viewer_score"], 65 / 9)
    assert math.isclose(first["viewer_score"], 7.2222, abs_tol=1e-4)
    assert (first["votes"], first["voters"], first["poll_votes"]) == (9, 3, 6)
    assert first["streamer_score"] == 9
    assert first["distribution"]["8"] == 4
    assert math.isclose(second["viewer_score"], 8.25)
    assert (second["votes"], second["voters"], second["poll_votes"]) == (8, 3, 5)
    assert math.isclose(report["viewer_score"], (65 / 9 + 8.25) / 2)
    assert math.isclose(report["viewer_score"], 7.7361, abs_tol=1e-4)
    assert report["streamer_score"] == 8.0
    assert (report["votes"], report["voters"], report["poll_votes"]) == (17, 5, 11)
    assert report["tracks_rated"] == 2
    assert third["viewer_score"] is None and third["streamer_score"] is None


def test_report_has_the_exact_json_shape() -> None:
    report = worked_example().to_report(42, "stopped", ALBUM)
    assert list(report) == [
        "session_id", "status", "scale", "viewer_score", "streamer_score",
        "votes", "voters", "poll_votes", "tracks_rated", "tracks",
    ]  # fmt: skip
    assert report["session_id"] == 42 and report["status"] == "stopped"
    assert report["scale"] == {"kind": "numeric", "options": [str(n) for n in range(11)]}
    assert [t["track_id"] for t in report["tracks"]] == [101, 102, 103]
    assert list(report["tracks"][0]) == [
        "track_id", "spotify_id", "track_number", "name", "artists", "viewer_score",
        "streamer_score", "votes", "voters", "poll_votes", "distribution",
    ]  # fmt: skip


def test_unrated_track_is_listed_with_nulls_and_every_option_at_zero() -> None:
    report = ReportState(Scale.parse("1-5")).to_report(1, "active", ALBUM[:1])
    assert report["tracks"][0] == {
        "track_id": 101,
        "spotify_id": "sp1",
        "track_number": 1,
        "name": "Opening",
        "artists": [],
        "viewer_score": None,
        "streamer_score": None,
        "votes": 0,
        "voters": 0,
        "poll_votes": 0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert report["viewer_score"] is None and report["streamer_score"] is None
    assert report["tracks_rated"] == 0


def test_categorical_track_score_is_the_most_frequent_option_or_tie() -> None:
    state = ReportState(Scale.parse("smash-pass"))
    state.apply_viewer_rating(101, "A", "smash")
    state.apply_viewer_rating(101, "B", "smash")
    state.set_poll_ballots(101, "p", {"pass": 1})
    state.apply_viewer_rating(102, "A", "smash")
    state.set_poll_ballots(102, "q", {"pass": 1})
    first, second, _ = state.to_report(7, "active", ALBUM)["tracks"]
    assert first["viewer_score"] == "smash"
    assert first["distribution"] == {"smash": 2, "pass": 1}
    assert second["viewer_score"] == "tie"


def test_categorical_session_score_counts_every_viewer_rating_and_can_tie() -> None:
    state = ReportState(Scale.parse(["gold", "silver", "bronze"]))
    state.apply_viewer_rating(101, "A", "gold")
    state.apply_viewer_rating(102, "A", "silver")
    state.apply_streamer_rating(101, "bronze")
    state.apply_streamer_rating(102, "gold")
    report = state.to_report(7, "active", ALBUM)
    assert report["viewer_score"] == "tie"
    assert report["streamer_score"] == "tie"
    state.set_poll_ballots(102, "p", {"silver": 2})
    state.apply_streamer_rating(101, "gold")
    report = state.to_report(7, "active", ALBUM)
    assert report["viewer_score"] == "silver"
    assert report["streamer_score"] == "gold"
    assert report["voters"] == 1 and report["votes"] == 4


def test_streamer_rating_replaces_the_previous_one() -> None:
    state = ReportState(Scale.parse("0-10"))
    state.apply_streamer_rating(101, "3")
    state.apply_streamer_rating(101, "0")
    report = state.to_report(1, "active", ALBUM)
    assert report["tracks"][0]["streamer_score"] == 0
    assert report["streamer_score"] == 0
    assert report["tracks_rated"] == 1 and report["votes"] == 0


def test_several_polls_of_a_replayed_track_add_up() -> None:
    state = ReportState(Scale.parse("1-5"))
    state.set_poll_ballots(101, "first-play", {"5": 2})
    state.set_poll_ballots(101, "second-play", {"1": 2})
    track = state.to_report(1, "active", ALBUM)["tracks"][0]
    assert track["poll_votes"] == 4 and track["voters"] == 0
    assert track["viewer_score"] == 3


def test_replacing_a_rating_that_was_never_counted_is_refused() -> None:
    state = ReportState(Scale.parse("0-10"))
    with pytest.raises(InvalidState):
        state.apply_viewer_rating(101, "A", "4", previous_option="5")


def test_options_outside_the_scale_are_refused() -> None:
    state = ReportState(Scale.parse("1-5"))
    with pytest.raises(ValidationFailed):
        state.apply_viewer_rating(101, "A", "9")
    with pytest.raises(ValidationFailed):
        state.set_poll_ballots(101, "p", {"1": -1})


def test_recompute_from_raw_facts_gives_the_worked_example() -> None:
    report = recompute_report(
        session_id=42,
        status="stopped",
        scale=Scale.parse("0-10"),
        tracks=ALBUM,
        viewer_votes=[
            ViewerVote(101, "A", "8", 1),
            ViewerVote(101, "C", "7", 4),
            ViewerVote(101, "B", "6", 2),
            ViewerVote(101, "C", "3", 3),
            ViewerVote(102, "A", "9", 5),
            ViewerVote(102, "D", "5", 6),
            ViewerVote(102, "E", "8", 7),
        ],
        streamer_votes=[StreamerVote(101, "9", 1), StreamerVote(102, "7", 2)],
        poll_ballots=[
            PollBallots(101, "poll-1", {"5": 2, "8": 3, "10": 1}, 2),
            PollBallots(101, "poll-1", {"5": 1}, 1),
            PollBallots(102, "poll-2", {"6": 1, "9": 2, "10": 2}, 3),
        ],
    )
    assert report == worked_example().to_report(42, "stopped", ALBUM)
