"""Start, track changes, vote windows, stop and delete through the bus (SPEC §3)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from premiere_ecoute.core.errors import (
    ExternalServiceError,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.models import Poll, SessionVoter, Vote
from premiere_ecoute.sessions.scores import Timeline
from tests.support.sessions import (
    Cast,
    apply,
    ballot,
    event_types,
    load,
    move,
    prepare,
    prepared_and_started,
    start,
    stop,
    window,
)

LIFECYCLE = ["SessionPrepared", "SessionStarted", "TrackChanged", "VotesOpened"]


async def test_start_plays_the_album_and_opens_votes_on_the_first_track(
    container: Any, cast: Cast, memory_ports: Any, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    row = await load(container, session_id)
    assert row.status == "active"
    assert row.current_index == 0 and row.votes_open
    assert row.started_at == fake_clock.now()
    assert Timeline.from_json(row.timeline).current_track_id == row.track_ids[0]
    assert set(row.subscriptions) == set(memory_ports.eventsub.active)
    assert memory_ports.playback.names() == ["ensure_device", "prepare", "play_context"]
    assert memory_ports.playback.playing[cast.streamer.id] == (row.context_uri, 0)
    assert memory_ports.eventsub.calls[0][1][1] == ("channel.chat.message",)
    assert memory_ports.chat.sent == [
        (
            cast.streamer.twitch_user_id,
            "Listening session started! Now playing: Morning Static."
            " Rate it in chat: type 0–10 (for example 10).",
        )
    ]
    assert await event_types(container, session_id) == LIFECYCLE


async def test_manual_playback_never_touches_spotify(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, playback="manual")
    await move(container, cast.streamer, session_id, "next")
    await stop(container, cast.streamer, session_id)
    assert memory_ports.playback.calls == []
    assert (await load(container, session_id)).status == "stopped"


async def test_poll_mode_subscribes_to_polls_and_opens_one_per_track(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, scale="1-5", vote_mode="poll")
    types = memory_ports.eventsub.calls[0][1][1]
    assert "channel.poll.progress" in types and "channel.poll.end" in types
    assert list(memory_ports.polls.open) == ["poll-1"]
    await move(container, cast.streamer, session_id, "next")
    assert list(memory_ports.polls.open) == ["poll-2"]
    assert memory_ports.polls.names() == ["create_poll", "end_poll", "create_poll"]
    assert memory_ports.polls.calls[2][1][1] == "Rate: Glass Harbour"
    await stop(container, cast.streamer, session_id)
    assert memory_ports.polls.open == {}
    async with container.db.session() as s:
        polls = list(await s.scalars(select(Poll).order_by(Poll.id)))
    row = await load(container, session_id)
    assert [(p.twitch_poll_id, p.track_id) for p in polls] == [
        ("poll-1", row.track_ids[0]),
        ("poll-2", row.track_ids[1]),
    ]
    assert (await event_types(container, session_id)).count("PollStarted") == 2


async def test_next_previous_and_play_track_n_move_player_and_session(
    container: Any, cast: Cast, memory_ports: Any, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    fake_clock.advance(30)
    row = await move(container, cast.streamer, session_id, "next")
    assert row.current_index == 1
    assert memory_ports.playback.playing[cast.streamer.id][1] == 1
    fake_clock.advance(30)
    row = await move(container, cast.streamer, session_id, "to", 4)
    assert row.current_index == 3
    fake_clock.advance(30)
    row = await move(container, cast.streamer, session_id, "previous")
    assert row.current_index == 2 and row.votes_open
    timeline = Timeline.from_json((await load(container, session_id)).timeline)
    assert [t for t, _ in timeline.entries] == [row.track_ids[i] for i in (0, 1, 3, 2)]
    assert [text for _, text in memory_ports.chat.sent[1:]] == [
        "Now playing: Glass Harbour. Rate it in chat: type 0–10 (for example 10).",
        "Now playing: Slow Orbit. Rate it in chat: type 0–10 (for example 10).",
        "Now playing: Paper Lanterns. Rate it in chat: type 0–10 (for example 10).",
    ]  # no track result: nobody rated these tracks
    move_events = ["VotesClosed", "TrackChanged", "VotesOpened"]
    assert await event_types(container, session_id) == LIFECYCLE + move_events * 3


async def test_moves_beyond_the_ends_of_the_album_are_refused(container: Any, cast: Cast) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    with pytest.raises(InvalidState, match="first track"):
        await move(container, cast.streamer, session_id, "previous")
    await move(container, cast.streamer, session_id, "to", 4)
    with pytest.raises(InvalidState, match="last track"):
        await move(container, cast.streamer, session_id, "next")
    with pytest.raises(ValidationFailed, match="only 4 tracks"):
        await move(container, cast.streamer, session_id, "to", 5)
    with pytest.raises(ValidationFailed, match="track number"):
        await move(container, cast.streamer, session_id, "to", 0)
    assert (await load(container, session_id)).current_index == 3


async def test_commands_of_a_running_session_are_refused_while_preparing_or_stopped(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer)
    for attempt in (
        move(container, cast.streamer, session_id, "next"),
        window(container, cast.streamer, session_id, open=False),
        stop(container, cast.streamer, session_id),
    ):
        with pytest.raises(InvalidState, match="preparing, not active"):
            await attempt
    await start(container, cast.streamer, session_id)
    await stop(container, cast.streamer, session_id)
    with pytest.raises(InvalidState, match="stopped, not active"):
        await move(container, cast.streamer, session_id, "next")
    with pytest.raises(InvalidState, match="only a preparing session"):
        await start(container, cast.streamer, session_id)
    with pytest.raises(InvalidState):
        await stop(container, cast.streamer, session_id)


async def test_unknown_session_is_not_found(container: Any, cast: Cast) -> None:
    with pytest.raises(NotFound):
        await start(container, cast.streamer, 999)


async def test_close_and_reopen_votes_of_the_current_track(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    fake_clock.advance(10)
    await window(container, cast.streamer, session_id, open=False)
    assert not (await load(container, session_id)).votes_open
    with pytest.raises(InvalidState, match="already closed"):
        await window(container, cast.streamer, session_id, open=False)
    fake_clock.advance(10)
    await window(container, cast.streamer, session_id, open=True)
    with pytest.raises(InvalidState, match="already open"):
        await window(container, cast.streamer, session_id, open=True)
    row = await load(container, session_id)
    assert row.votes_open
    timeline = Timeline.from_json(row.timeline)
    first = row.track_ids[0]
    assert timeline.window_open_at(first, fake_clock.now())
    assert not timeline.window_open_at(first, fake_clock.now().replace(second=15))
    assert await event_types(container, session_id) == [*LIFECYCLE, "VotesClosed", "VotesOpened"]


async def test_stop_unsubscribes_pauses_and_posts_the_summary(
    container: Any, cast: Cast, memory_ports: Any, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    subs = list((await load(container, session_id)).subscriptions)
    await apply(
        container,
        session_id,
        [ballot("v1", "8", fake_clock.now()), ballot("v2", "6", fake_clock.now())],
    )
    fake_clock.advance(60)
    await stop(container, cast.streamer, session_id)
    row = await load(container, session_id)
    assert (row.status, row.stopped_at, row.votes_open) == ("stopped", fake_clock.now(), False)
    assert row.notice is None
    assert ("unsubscribe", (tuple(subs),)) in memory_ports.eventsub.calls
    assert memory_ports.eventsub.active == {}
    assert memory_ports.playback.names()[-1] == "pause"
    assert [text for _, text in memory_ports.chat.sent[-2:]] == [
        "Votes closed for Morning Static: chat score 7.0 (2 votes).",
        "Session over! Album chat score: 7.0. 2 votes, 2 voters."
        " Top track: Morning Static (7.0). Thanks for listening!",
    ]
    async with container.db.session() as s:
        stopped = await s.scalar(
            select(StoredEventRow).where(
                StoredEventRow.stream == f"session-{session_id}",
                StoredEventRow.type == "SessionStopped",
            )
        )
    assert stopped is not None
    assert stopped.payload["report"]["viewer_score"] == 7.0
    assert stopped.payload["report"]["status"] == "stopped"


async def test_a_failed_pause_is_reported_but_does_not_block_the_stop(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    memory_ports.playback.fail_on["pause"] = ExternalServiceError(
        "Spotify is down", service="spotify"
    )
    await stop(container, cast.streamer, session_id)
    row = await load(container, session_id)
    assert row.status == "stopped"
    assert row.notice == "Spotify did not pause: Spotify is down"


async def test_stop_report_includes_votes_committed_while_spotify_was_pausing(
    container: Any, cast: Cast, memory_ports: Any, fake_clock: Any
) -> None:
    """The row is re-read under lock after the external calls: nothing applied meanwhile is
    missing from the final report."""
    session_id = await prepared_and_started(container, cast.streamer)
    await apply(container, session_id, [ballot("v1", "4", fake_clock.now())])
    playback = memory_ports.playback
    original_pause = playback.pause

    async def pause_while_a_vote_lands(user_id: int) -> None:
        await apply(container, session_id, [ballot("v2", "10", fake_clock.now())])
        await original_pause(user_id)

    playback.pause = pause_while_a_vote_lands
    await stop(container, cast.streamer, session_id)
    async with container.db.session() as s:
        stopped = await s.scalar(
            select(StoredEventRow.payload).where(
                StoredEventRow.stream == f"session-{session_id}",
                StoredEventRow.type == "SessionStopped",
            )
        )
    assert stopped is not None
    assert stopped["report"]["votes"] == 2
    assert stopped["report"]["viewer_score"] == 7.0


async def test_delete_removes_votes_polls_and_report_and_is_logged(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, scale="1-5", vote_mode="both")
    await apply(container, session_id, [ballot("v1", "4", fake_clock.now())])
    with pytest.raises(InvalidState, match="stop the session"):
        await container.bus.execute(
            cmd.DeleteSession(session_id=session_id, actor_id=cast.streamer.id)
        )
    await stop(container, cast.streamer, session_id)
    await container.bus.execute(cmd.DeleteSession(session_id=session_id, actor_id=cast.streamer.id))
    async with container.db.session() as s:
        counts = [
            await s.scalar(select(func.count()).select_from(t).where(t.session_id == session_id))
            for t in (Vote, Poll, SessionVoter)
        ]  # type: ignore[attr-defined]
    assert counts == [0, 0, 0]
    with pytest.raises(NotFound):
        await load(container, session_id)
    types = await event_types(container, session_id)
    assert types[-1] == "SessionDeleted"


async def test_a_preparing_session_can_be_deleted(container: Any, cast: Cast) -> None:
    session_id = await prepare(container, cast.streamer)
    await container.bus.execute(cmd.DeleteSession(session_id=session_id, actor_id=cast.streamer.id))
    with pytest.raises(NotFound):
        await load(container, session_id)
