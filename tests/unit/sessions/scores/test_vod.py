"""The session after the stream, from a hand-built event log with known times: the timeline,
the chapters, the highlights and the VOD links are exact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from premiere_ecoute.core.errors import ValidationFailed
from premiere_ecoute.sessions.scores.report import TrackRef
from premiere_ecoute.sessions.scores.vod import (
    LoggedEvent,
    build_timeline,
    chapters,
    clock,
    format_score,
    highlights,
    marker_description,
    parse_offset,
    parse_vod_url,
    timeline_json,
)

T0 = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)
DELAY = 2
REFS = [
    TrackRef(track_id=11, spotify_id="s11", track_number=1, name="Intro Song"),
    TrackRef(track_id=12, spotify_id="s12", track_number=2, name="Second"),
    TrackRef(track_id=13, spotify_id="s13", track_number=3, name="Third"),
]


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def ev(type_: str, recorded: float = 0.0, **payload: Any) -> LoggedEvent:
    return LoggedEvent(type_, payload, at(recorded))


def vote(
    moment: float, track_id: int, viewer: str, value: str, streamer: bool = False
) -> LoggedEvent:
    # A viewer watching with the stream delay sends the vote DELAY seconds after the moment.
    sent = at(moment + DELAY).isoformat()
    return ev(
        "VoteAccepted",
        moment + DELAY,
        track_id=track_id,
        viewer_id=viewer,
        value=value,
        is_streamer=streamer,
        source="chat",
        sent_at=sent,
    )


def session_events(scale: list[str] | None = None) -> list[LoggedEvent]:
    options = scale or [str(n) for n in range(11)]
    kind = "numeric" if all(o.isdigit() for o in options) else "categorical"
    return [
        ev(
            "SessionPrepared",
            -60,
            user_id=1,
            source_kind="album",
            source_spotify_id="album",
            track_ids=[11, 12, 13],
            scale={"kind": kind, "options": options},
            vote_mode="both",
            stream_delay_s=DELAY,
            playback="manual",
        ),
        ev("SessionStarted", 0, at=at(0).isoformat(), track_id=11),
        ev("TrackChanged", 0, at=at(0).isoformat(), track_id=11, index=0, source="start"),
        vote(10, 11, "A", "8"),
        vote(12, 11, "B", "6"),
        vote(15, 11, "C", "3"),
        vote(20, 11, "S", "9", streamer=True),
        vote(70, 11, "C", "7"),
        ev("TrackChanged", 150, at=at(150).isoformat(), track_id=12, index=1, source="web"),
        vote(160, 12, "A", "9"),
        vote(161, 12, "D", "5"),
        vote(163, 12, "E", "8"),
        vote(165, 12, "F", "10"),
        vote(166, 12, "X", "1"),
        vote(168, 12, "G", "4"),
        ev("TrackChanged", 330, at=at(330).isoformat(), track_id=13, index=2, source="spotify"),
        ev("PollStarted", 330, poll_id="p1", track_id=13),
        ev(
            "PollBallotsUpdated",
            400,
            poll_id="p1",
            track_id=13,
            counts={"5": 2, "10": 2},
            final=True,
        ),
        ev("SessionStopped", 420, at=at(420).isoformat(), report={}),
        ev("ViewerRatingsErased", 500, viewer_ids=["X"]),
    ]


def test_timeline_spans_minutes_and_running_score_are_exact() -> None:
    tl = build_timeline(session_events(), REFS, now=at(9999))
    assert tl.duration_s == 420
    assert [(s.track_id, s.start_s, s.end_s, s.votes) for s in tl.tracks] == [
        (11, 0, 150, 4),
        (12, 150, 330, 5),
        (13, 330, 420, 4),
    ]
    assert [s.viewer_score for s in tl.tracks] == [7.0, 7.2, 7.5]
    assert [b.votes for b in tl.minutes] == [3, 1, 5, 0, 0, 0, 4]
    scores = [b.score for b in tl.minutes]
    assert scores[0] == pytest.approx(17 / 3)
    assert scores[1:6] == pytest.approx([7.0, 7.1, 7.1, 7.1, 7.1])
    # The last running score is the report's session score: (7.0 + 7.2 + 7.5) / 3.
    assert scores[6] == pytest.approx(21.7 / 3)
    assert tl.viewer_score == pytest.approx(scores[6])
    # The erased viewer's vote is gone; the streamer's rating is not a viewer vote.
    assert [m for m, _t in tl.vote_moments] == [10, 12, 15, 70, 160, 161, 163, 165, 168]


def test_highlights_are_exact() -> None:
    moments = highlights(build_timeline(session_events(), REFS, now=at(9999)))
    assert moments.burst is not None
    assert (moments.burst.start_s, moments.burst.votes, moments.burst.track_id) == (160, 5, 12)
    assert moments.swing is not None
    assert (moments.swing.from_s, moments.swing.at_s) == (0, 60)
    assert moments.swing.delta == pytest.approx(7.0 - 17 / 3)
    assert moments.silence is not None
    assert (moments.silence.from_s, moments.silence.to_s) == (168, 420)


def test_chapters_from_the_session_start_and_from_a_vod_offset() -> None:
    tl = build_timeline(session_events(), REFS, now=at(9999))
    assert chapters(tl) == [
        "00:00 1. Intro Song — 7.0/10",
        "02:30 2. Second — 7.2/10",
        "05:30 3. Third — 7.5/10",
    ]
    assert chapters(tl, parse_offset("1:02:03")) == [
        "00:00 Intro",
        "01:02:03 1. Intro Song — 7.0/10",
        "01:04:33 2. Second — 7.2/10",
        "01:07:33 3. Third — 7.5/10",
    ]


def test_chapters_on_a_categorical_scale_name_the_winning_option() -> None:
    events = [
        e
        for e in session_events(["smash", "pass"])
        if e.type not in ("VoteAccepted", "PollBallotsUpdated")
    ]
    events.insert(3, vote(10, 11, "A", "smash"))
    events.insert(4, vote(11, 11, "B", "smash"))
    events.insert(5, vote(12, 12, "B", "pass"))  # moment 12 is still track 1's span
    tl = build_timeline(events, REFS, now=at(9999))
    assert chapters(tl) == [
        "00:00 1. Intro Song — smash",
        "02:30 2. Second — pass",
        "05:30 3. Third",
    ]
    assert all(b.score is None for b in tl.minutes)
    assert highlights(tl).swing is None


def test_an_active_session_ends_now_and_one_not_started_is_empty() -> None:
    events = [e for e in session_events() if e.type != "SessionStopped"][:4]
    tl = build_timeline(events, REFS, now=at(95))
    assert tl.duration_s == 95 and tl.ended_at is None
    assert [b.votes for b in tl.minutes] == [1, 0]
    assert tl.tracks[0].end_s == 95
    empty = build_timeline(session_events()[:1], REFS, now=at(10))
    assert empty.tracks == [] and empty.minutes == [] and chapters(empty) == []
    assert highlights(empty).silence is None


def test_vod_links_twitch_uses_hms_and_youtube_seconds() -> None:
    tl = build_timeline(session_events(), REFS, now=at(9999))
    twitch = timeline_json(
        tl, vod=parse_vod_url("https://www.twitch.tv/videos/123456"), offset_s=3723
    )
    assert [t["vod_link"] for t in twitch["tracks"]] == [
        "https://www.twitch.tv/videos/123456?t=1h2m3s",
        "https://www.twitch.tv/videos/123456?t=1h4m33s",
        "https://www.twitch.tv/videos/123456?t=1h7m33s",
    ]
    assert twitch["highlights"]["burst"]["vod_link"].endswith("?t=1h4m43s")
    assert twitch["highlights"]["burst"]["track"]["name"] == "Second"
    assert twitch["highlights"]["swing"]["track"]["track_id"] == 11
    assert twitch["highlights"]["silence"]["seconds"] == 252
    youtube = timeline_json(tl, vod=parse_vod_url("youtu.be/dQw4w9WgXcQ"), offset_s=0)
    assert youtube["tracks"][1]["vod_link"] == "https://youtu.be/dQw4w9WgXcQ?t=150"
    assert youtube["vod"]["url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert timeline_json(tl)["tracks"][0]["vod_link"] is None
    assert youtube["chapters"][0] == "00:00 1. Intro Song — 7.0/10"


@pytest.mark.parametrize(
    "url, kind, video",
    [
        ("https://www.twitch.tv/videos/2300000001", "twitch", "2300000001"),
        ("twitch.tv/videos/42/", "twitch", "42"),
        ("https://m.twitch.tv/videos/42", "twitch", "42"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10", "youtube", "dQw4w9WgXcQ"),
        ("https://youtube.com/live/dQw4w9WgXcQ?feature=share", "youtube", "dQw4w9WgXcQ"),
        ("http://youtu.be/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
    ],
)
def test_vod_urls_accepted(url: str, kind: str, video: str) -> None:
    vod = parse_vod_url(url)
    assert (vod.kind, vod.video_id) == (kind, video)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://www.twitch.tv/streamer",
        "https://evil.example/videos/42",
        "https://twitch.tv.evil.example/videos/42",
        "javascript:alert(1)",
        "https://www.youtube.com/watch?v=short",
        "ftp://youtu.be/dQw4w9WgXcQ",
        "https://youtu.be/" + "a" * 600,
    ],
)
def test_vod_urls_refused(url: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_vod_url(url)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("", 0),
        ("0", 0),
        ("3723", 3723),
        ("1:02:03", 3723),
        ("62:03", 3723),
        ("1h2m3s", 3723),
        (" 5:07 ", 307),
    ],
)
def test_offsets(text: str, seconds: int) -> None:
    assert parse_offset(text) == seconds


@pytest.mark.parametrize("text", ["1:60:00", "5:75", "abc", "-5", "1:2:3:4", "49:00:00", "h"])
def test_bad_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_offset(text)


def test_small_formats() -> None:
    assert clock(59.9) == "00:59" and clock(3600) == "01:00:00" and clock(36001) == "10:00:01"
    assert marker_description(3, "Song") == "3. Song"
    long = marker_description(12, "x" * 300)
    assert len(long) == 140 and long.startswith("12. xx") and long.endswith("…")
    scale_0_10 = build_timeline(session_events(), REFS, now=at(1)).scale
    assert format_score(7.25, scale_0_10) == "7.3/10"
    assert format_score(7.249, scale_0_10) == "7.2/10"
    assert format_score(None, scale_0_10) is None
    assert format_score("tie", scale_0_10) == "tie"


def test_a_log_without_the_start_track_change_still_has_the_first_track() -> None:
    events = [e for e in session_events() if e.payload.get("source") != "start"]
    tl = build_timeline(events, REFS, now=at(9999))
    assert [(s.track_id, s.start_s) for s in tl.tracks] == [(11, 0), (12, 150), (13, 330)]
