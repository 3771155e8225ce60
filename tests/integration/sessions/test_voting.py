"""Which track a vote belongs to, with stream delay, windows and latest-wins (SPEC §4)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from premiere_ecoute.core.errors import Forbidden, InvalidState, ValidationFailed
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.models import Vote
from tests.support.sessions import (
    Cast,
    apply,
    at,
    ballot,
    event_types,
    live_report,
    load,
    move,
    poll_update,
    prepare,
    prepared_and_started,
    stop,
    window,
)


def _track(report: dict[str, Any], index: int) -> dict[str, Any]:
    return report["tracks"][index]


async def _delayed_session(c: Any, cast: Cast, clock: Any, delay: int = 10) -> int:
    """Track 1 from t=0, track 2 from t=60; track 2's window closed 90..120; stop at 150."""
    session_id = await prepared_and_started(c, cast.streamer, stream_delay_s=delay)
    clock.advance(60)
    await move(c, cast.streamer, session_id, "next")
    clock.advance(30)
    await window(c, cast.streamer, session_id, open=False)
    clock.advance(30)
    await window(c, cast.streamer, session_id, open=True)
    return session_id


async def test_votes_are_judged_by_sent_time_minus_stream_delay(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await _delayed_session(container, cast, fake_clock)
    fake_clock.advance(30)
    await stop(container, cast.streamer, session_id)  # t=150
    fake_clock.advance(60)  # everything below is processed late, after the stop
    outcome = await apply(
        container,
        session_id,
        [
            ballot("early", "1", at(container, 5)),  # t-10 = -5: before the start
            ballot("a", "8", at(container, 65)),  # 55: still track 1 on the stream
            ballot("b", "6", at(container, 75)),  # 65: track 2
            ballot("c", "9", at(container, 95)),  # 85: track 2, window open
            ballot("d", "2", at(container, 105)),  # 95: track 2's window closed
            ballot("e", "4", at(container, 135)),  # 125: re-opened
            ballot("f", "5", at(container, 158)),  # 148: before stop, heard late
            ballot("g", "3", at(container, 165)),  # 155: after stop + delay
        ],
    )
    reasons = {v.viewer_id: reason for v, reason in outcome.rejected}
    assert reasons == {"early": "before_start", "d": "window_closed", "g": "after_stop"}
    report = await live_report(container, session_id)
    assert _track(report, 0)["distribution"]["8"] == 1 and _track(report, 0)["votes"] == 1
    assert _track(report, 1)["votes"] == 4
    assert _track(report, 1)["viewer_score"] == (6 + 9 + 4 + 5) / 4
    assert report["voters"] == 5


async def test_without_delay_a_vote_after_the_track_change_counts_for_the_new_track(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    fake_clock.advance(60)
    await move(container, cast.streamer, session_id, "next")
    await apply(
        container,
        session_id,
        [ballot("a", "8", at(container, 59.999)), ballot("b", "2", at(container, 60))],
    )
    report = await live_report(container, session_id)
    assert [t["votes"] for t in report["tracks"]] == [1, 1, 0, 0]
    assert _track(report, 0)["viewer_score"] == 8.0


async def test_the_latest_rating_of_a_viewer_wins_even_when_processed_out_of_order(
    container: Any, cast: Cast
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    await apply(
        container,
        session_id,
        [ballot("v", "3", at(container, 10)), ballot("w", "5", at(container, 11))],
    )
    await apply(container, session_id, [ballot("v", "7", at(container, 30))])
    late = await apply(container, session_id, [ballot("v", "9", at(container, 20))])
    assert [reason for _, reason in late.rejected] == ["superseded"]
    same_batch = await apply(
        container,
        session_id,
        [ballot("w", "10", at(container, 40)), ballot("w", "1", at(container, 35))],
    )
    assert len(same_batch.accepted) == 2
    report = await live_report(container, session_id)
    first = _track(report, 0)
    assert (first["votes"], first["voters"], first["viewer_score"]) == (2, 2, 8.5)
    assert first["distribution"]["7"] == 1 and first["distribution"]["10"] == 1
    assert sum(first["distribution"].values()) == 2
    async with container.db.session() as s:
        rows = {v.viewer_id: (v.value, v.changes) for v in await s.scalars(select(Vote))}
    assert rows == {"v": ("7", 1), "w": ("10", 1)}


async def test_streamer_ratings_are_kept_apart_from_viewer_ratings(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    broadcaster = cast.streamer.twitch_user_id or ""
    await apply(
        container,
        session_id,
        [
            ballot("v", "4", at(container, 1)),
            ballot(broadcaster, "9", at(container, 2), streamer=True),
        ],
    )
    fake_clock.advance(5)
    await container.bus.execute(
        cmd.CastVote(session_id=session_id, actor_id=cast.streamer.id, value="0", source="control")
    )
    outcome = await container.bus.execute(
        cmd.CastVote(session_id=session_id, actor_id=cast.viewer.id, value=" 6 ")
    )
    assert outcome.accepted[0].viewer_id == cast.viewer.twitch_user_id
    report = await live_report(container, session_id)
    first = _track(report, 0)
    assert first["streamer_score"] == 0.0
    assert (first["votes"], first["voters"], first["viewer_score"]) == (2, 2, 5.0)
    assert report["streamer_score"] == 0.0 and report["tracks_rated"] == 1
    assert (await event_types(container, session_id)).count("VoteAccepted") == 4


async def test_web_votes_are_refused_with_readable_reasons(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepare(container, cast.streamer, stream_delay_s=5)

    def vote(user: Any, value: str = "5") -> Any:
        return container.bus.execute(
            cmd.CastVote(session_id=session_id, actor_id=user.id, value=value)
        )

    with pytest.raises(InvalidState, match="not started"):
        await vote(cast.viewer)
    await container.bus.execute(cmd.StartSession(session_id=session_id, actor_id=cast.streamer.id))
    with pytest.raises(Forbidden, match="bot"):
        await vote(cast.bot)
    with pytest.raises(ValidationFailed, match="not an option"):
        await vote(cast.viewer, "11")
    fake_clock.advance(3)  # still before the start on the delayed stream
    with pytest.raises(InvalidState, match="not started"):
        await vote(cast.viewer)
    fake_clock.advance(10)
    await window(container, cast.streamer, session_id, open=False)
    fake_clock.advance(10)
    with pytest.raises(InvalidState, match="votes are closed"):
        await vote(cast.viewer)
    await window(container, cast.streamer, session_id, open=True)
    fake_clock.advance(10)
    await stop(container, cast.streamer, session_id)
    fake_clock.advance(4)  # within the delay: the viewer heard the track before the stop
    await vote(cast.viewer, "7")
    fake_clock.advance(2)
    with pytest.raises(InvalidState, match="session is over"):
        await vote(cast.viewer)
    report = await live_report(container, session_id)
    assert (report["votes"], report["viewer_score"]) == (1, 7.0)


async def test_poll_ballots_replace_running_totals_and_unknown_polls_are_ignored(
    container: Any, cast: Cast
) -> None:
    session_id = await prepared_and_started(
        container, cast.streamer, scale="Smash,Pass", vote_mode="both"
    )
    await apply(container, session_id, [ballot("v", "smash", at(container, 1))])
    assert await poll_update(container, "poll-1", {"Smash": 2, "Pass": 1})
    assert await poll_update(container, "poll-1", {"smash": 2, "PASS": 3}, final=True)
    assert not await poll_update(container, "poll-unknown", {"Smash": 50})
    # A choice that is no option of the scale is left out (our polls only offer options).
    assert await poll_update(container, "poll-1", {"smash": 2, "PASS": 3, "Maybe": 9}, final=True)
    report = await live_report(container, session_id)
    first = _track(report, 0)
    assert first["distribution"] == {"Smash": 3, "Pass": 3}
    assert (first["votes"], first["voters"], first["poll_votes"]) == (6, 1, 5)
    assert first["viewer_score"] == "tie"
    row = await load(container, session_id)
    assert row.current_poll_id == "poll-1"
    async with container.db.session() as s:
        from premiere_ecoute.sessions.models import Poll

        poll = await s.scalar(select(Poll))
    assert poll is not None
    assert (poll.ballots, poll.status) == ({"Smash": 2, "Pass": 3}, "COMPLETED")
