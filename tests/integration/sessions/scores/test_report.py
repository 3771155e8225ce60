"""SPEC §5's worked example, end to end through the database, and the report's JSON shape."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.models import Poll
from tests.support.sessions import (
    Cast,
    apply,
    at,
    ballot,
    live_report,
    load,
    move,
    poll_update,
    prepared_and_started,
    stop,
)

REPORT_KEYS = {
    "session_id",
    "status",
    "scale",
    "viewer_score",
    "streamer_score",
    "votes",
    "voters",
    "poll_votes",
    "tracks_rated",
    "tracks",
}
TRACK_KEYS = {
    "track_id",
    "spotify_id",
    "track_number",
    "name",
    "artists",
    "viewer_score",
    "streamer_score",
    "votes",
    "voters",
    "poll_votes",
    "distribution",
}
OPTIONS = [str(n) for n in range(11)]


async def _add_poll(c: Any, session_id: int, index: int, poll_id: str) -> None:
    """The example polls 0-10, which Twitch cannot run (5 choices at most): the poll rows are
    stored as if Twitch had, and their notifications then go through the normal path."""
    row = await load(c, session_id)
    async with c.db.session() as s:
        s.add(Poll(session_id=session_id, track_id=row.track_ids[index], twitch_poll_id=poll_id))
        await s.commit()


async def _run_example(c: Any, cast: Cast, clock: Any) -> int:
    session_id = await prepared_and_started(c, cast.streamer)
    await _add_poll(c, session_id, 0, "poll-1")
    await _add_poll(c, session_id, 1, "poll-2")
    broadcaster = cast.streamer.twitch_user_id or ""
    await apply(
        c,
        session_id,
        [ballot("A", "8", at(c, 5)), ballot("B", "6", at(c, 6)), ballot("C", "3", at(c, 7))],
    )
    await apply(
        c,
        session_id,
        [ballot("C", "7", at(c, 20)), ballot(broadcaster, "9", at(c, 21), streamer=True)],
    )
    await poll_update(c, "poll-1", {"5": 1, "8": 1})
    clock.advance(60)
    await move(c, cast.streamer, session_id, "next")
    await poll_update(c, "poll-1", {"5": 2, "8": 3, "10": 1}, final=True)
    await apply(
        c,
        session_id,
        [ballot("A", "9", at(c, 65)), ballot("D", "5", at(c, 66)), ballot("E", "8", at(c, 67))],
    )
    clock.advance(10)
    await c.bus.execute(
        cmd.CastVote(session_id=session_id, actor_id=cast.streamer.id, value="7", source="control")
    )
    clock.advance(50)
    await poll_update(c, "poll-2", {"6": 1, "9": 2, "10": 2}, final=True)
    await stop(c, cast.streamer, session_id)
    return session_id


async def test_worked_example_of_the_spec(container: Any, cast: Cast, fake_clock: Any) -> None:
    session_id = await _run_example(container, cast, fake_clock)
    report = await live_report(container, session_id)
    one, two = report["tracks"][0], report["tracks"][1]
    assert one["viewer_score"] == 65 / 9
    assert (one["votes"], one["voters"], one["poll_votes"], one["streamer_score"]) == (9, 3, 6, 9.0)
    assert two["viewer_score"] == 8.25
    assert (two["votes"], two["voters"], two["poll_votes"], two["streamer_score"]) == (8, 3, 5, 7.0)
    assert report["viewer_score"] == (65 / 9 + 8.25) / 2
    assert round(report["viewer_score"], 4) == 7.7361
    assert report["streamer_score"] == 8.0
    assert (report["votes"], report["voters"], report["poll_votes"], report["tracks_rated"]) == (
        17,
        5,
        11,
        2,
    )
    assert one["distribution"] == {
        **dict.fromkeys(OPTIONS, 0),
        "5": 2,
        "6": 1,
        "7": 1,
        "8": 4,
        "10": 1,
    }


async def test_report_json_lists_every_album_track_and_every_option(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await _run_example(container, cast, fake_clock)
    report = await live_report(container, session_id)
    assert set(report) == REPORT_KEYS | {"figures"}  # the honest figures come beside
    assert report["session_id"] == session_id and report["status"] == "stopped"
    assert report["scale"] == {"kind": "numeric", "options": OPTIONS}
    assert [t["track_number"] for t in report["tracks"]] == [1, 2, 3, 4]
    assert [t["name"] for t in report["tracks"]] == [
        "Morning Static",
        "Glass Harbour",
        "Paper Lanterns",
        "Slow Orbit",
    ]
    for track in report["tracks"]:
        assert set(track) == TRACK_KEYS | {"figures"}
        assert list(track["distribution"]) == OPTIONS
    for unrated in report["tracks"][2:]:
        assert (unrated["viewer_score"], unrated["streamer_score"]) == (None, None)
        assert (unrated["votes"], unrated["voters"], unrated["poll_votes"]) == (0, 0, 0)
        assert set(unrated["distribution"].values()) == {0}


async def test_categorical_scores_are_the_most_frequent_option_or_a_tie(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, scale="smash-pass")
    broadcaster = cast.streamer.twitch_user_id or ""
    await apply(
        container,
        session_id,
        [
            ballot("A", "smash", at(container, 1)),
            ballot("B", "pass", at(container, 2)),
            ballot("C", "SMASH", at(container, 3)),
            ballot(broadcaster, "pass", at(container, 4), streamer=True),
        ],
    )
    fake_clock.advance(60)
    await move(container, cast.streamer, session_id, "next")
    await apply(
        container,
        session_id,
        [ballot("A", "pass", at(container, 61)), ballot("D", "smash", at(container, 62))],
    )
    report = await live_report(container, session_id)
    assert report["scale"]["kind"] == "categorical"
    assert [t["viewer_score"] for t in report["tracks"]] == ["smash", "tie", None, None]
    assert report["tracks"][0]["streamer_score"] == "pass"
    assert report["viewer_score"] == "smash"  # 3 smash, 2 pass over the session
    assert report["streamer_score"] == "pass"
    assert (report["votes"], report["voters"], report["tracks_rated"]) == (5, 4, 2)
