"""Start is a saga: a failing step undoes the earlier ones (SPEC §3, §4.5)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from premiere_ecoute.core.errors import Conflict, ExternalServiceError
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.sessions.models import ListeningSession, Poll
from tests.support.sessions import Cast, event_types, load, move, prepare, start

# step that fails -> (port, name) calls that must have undone the earlier steps
CASES = {
    "ensure_device": [],
    "subscribe": [],
    "prepare": [("eventsub", "unsubscribe")],
    # A play that failed may still have started the player (a timeout): it is paused too.
    "play_context": [("eventsub", "unsubscribe"), ("playback", "pause")],
}


def _port_of(memory_ports: Any, step: str) -> Any:
    return memory_ports.eventsub if step == "subscribe" else memory_ports.playback


async def _assert_not_started(c: Any, session_id: int, reason: str) -> None:
    row = await load(c, session_id)
    assert row.status == "preparing"
    assert row.notice == f"Could not start: {reason}"
    assert (row.started_at, row.current_index, row.votes_open) == (None, None, False)
    assert row.subscriptions == [] and row.timeline == {}
    async with c.db.session() as s:
        active = await s.scalar(
            select(func.count())
            .select_from(ListeningSession)
            .where(ListeningSession.status == "active")
        )
        polls = await s.scalar(select(func.count()).select_from(Poll))
        failed = await s.scalar(
            select(StoredEventRow.payload).where(
                StoredEventRow.stream == f"session-{session_id}",
                StoredEventRow.type == "SessionStartFailed",
            )
        )
    assert (active, polls) == (0, 0)
    assert failed == {"session_id": session_id, "reason": reason}
    assert "SessionStarted" not in await event_types(c, session_id)


@pytest.mark.parametrize("step", list(CASES))
async def test_a_failing_step_leaves_the_session_preparing_and_undoes_earlier_steps(
    container: Any, cast: Cast, memory_ports: Any, step: str
) -> None:
    session_id = await prepare(container, cast.streamer, scale="1-5", vote_mode="both")
    reason = f"Spotify refused {step}"
    _port_of(memory_ports, step).fail_on[step] = ExternalServiceError(reason, service="x")
    with pytest.raises(ExternalServiceError, match=reason):
        await start(container, cast.streamer, session_id)
    await _assert_not_started(container, session_id, reason)
    undone = [
        (port, name)
        for port in ("eventsub", "playback", "polls")
        for name in getattr(memory_ports, port).names()
        if name in ("unsubscribe", "pause", "end_poll")
    ]
    assert undone == CASES[step]
    assert memory_ports.eventsub.active == {}
    assert memory_ports.polls.open == {}
    assert memory_ports.chat.sent == []


async def test_after_a_failed_start_the_streamer_can_start_again(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepare(container, cast.streamer)
    memory_ports.playback.devices.clear()
    with pytest.raises(ExternalServiceError, match="Open Spotify on a device first"):
        await start(container, cast.streamer, session_id)
    await _assert_not_started(container, session_id, "Open Spotify on a device first")
    memory_ports.playback.devices.append("phone")
    await start(container, cast.streamer, session_id)
    row = await load(container, session_id)
    assert row.status == "active" and row.notice is None


async def test_failure_after_every_external_step_undoes_all_of_them(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    """The last step (marking the row active) fails: unsubscribe, pause and end the poll."""
    other = await prepare(container, cast.streamer)
    session_id = await prepare(container, cast.streamer, scale="1-5", vote_mode="poll")
    polls = memory_ports.polls
    original = polls.create_poll

    async def create_poll_then_lose_the_race(*args: Any) -> str:
        poll_id = await original(*args)
        async with container.db.session() as s:
            await s.execute(
                update(ListeningSession).where(ListeningSession.id == other).values(status="active")
            )
            await s.commit()
        return str(poll_id)

    polls.create_poll = create_poll_then_lose_the_race
    with pytest.raises(Conflict):
        await start(container, cast.streamer, session_id)
    assert memory_ports.eventsub.names()[-1] == "unsubscribe"
    assert memory_ports.playback.names()[-1] == "pause"
    assert polls.names()[-1] == "end_poll" and polls.open == {}
    row = await load(container, session_id)
    assert row.status == "preparing" and row.current_poll_id is None
    async with container.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Poll)) == 0


async def test_a_network_error_is_undone_and_reported_as_an_external_failure(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepare(container, cast.streamer)
    memory_ports.playback.fail_on["play_context"] = ConnectionResetError("reset by peer")
    with pytest.raises(ExternalServiceError, match="network error: reset by peer"):
        await start(container, cast.streamer, session_id)
    await _assert_not_started(container, session_id, "network error: reset by peer")
    assert memory_ports.eventsub.active == {}


async def test_a_poll_refusal_keeps_the_session_going_in_chat_mode(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepare(container, cast.streamer, scale="smash-pass", vote_mode="poll")
    memory_ports.polls.fail_on["create_poll"] = ExternalServiceError(
        "The broadcaster is not an affiliate", service="twitch"
    )
    await start(container, cast.streamer, session_id)
    row = await load(container, session_id)
    assert (row.status, row.vote_mode, row.votes_open) == ("active", "chat", True)
    assert (
        row.notice == "Twitch poll unavailable, chat votes only: "
        "The broadcaster is not an affiliate"
    )
    assert row.current_poll_id is None
    assert memory_ports.eventsub.names() == ["subscribe"]
    assert "PollFailed" in await event_types(container, session_id)
    await move(container, cast.streamer, session_id, "next")
    assert memory_ports.polls.names() == []


async def test_two_starts_at_once_subscribe_once_and_one_is_refused(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    import asyncio

    from premiere_ecoute.core.errors import Conflict

    first = await prepare(container, cast.streamer)
    second = await prepare(container, cast.streamer)
    results = await asyncio.gather(
        start(container, cast.streamer, first),
        start(container, cast.streamer, second),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 1
    # The loser never reached Twitch: nothing of the winner's was undone.
    assert memory_ports.eventsub.names().count("subscribe") == 1
    assert "unsubscribe" not in memory_ports.eventsub.names()
    assert len(memory_ports.eventsub.active) == 1


async def test_two_moves_to_the_same_track_leave_one_poll_open(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    import asyncio

    session_id = await prepare(container, cast.streamer, scale="1-5", vote_mode="both")
    await start(container, cast.streamer, session_id)
    # The player monitor and the control page both move the session to track 3 at once.
    await asyncio.gather(
        move(container, cast.streamer, session_id, "to", 3),
        move(container, cast.streamer, session_id, "to", 3),
    )
    row = await load(container, session_id)
    assert row.current_index == 2
    assert list(memory_ports.polls.open) == [row.current_poll_id]


async def test_stop_goes_through_even_when_the_connections_are_unlinked(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    from premiere_ecoute.core.errors import InvalidState
    from tests.support.sessions import stop

    session_id = await prepare(
        container, cast.streamer, scale="1-5", vote_mode="both", playback="spotify"
    )
    await start(container, cast.streamer, session_id)
    memory_ports.playback.fail_on["pause"] = InvalidState("Connect your Spotify account first")
    memory_ports.polls.fail_on["end_poll"] = InvalidState("Your Twitch connection expired")
    memory_ports.eventsub.fail_on["unsubscribe"] = InvalidState("Your Twitch connection expired")
    row = await stop(container, cast.streamer, session_id)
    assert row.status == "stopped"
    assert "Spotify did not pause: Connect your Spotify account first" in (row.notice or "")
