"""Who may command a session, and one active session per streamer (SPEC §3)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from premiere_ecoute.core.errors import Conflict, Forbidden
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.models import ListeningSession
from tests.support.sessions import (
    Cast,
    event_types,
    load,
    move,
    prepare,
    prepared_and_started,
    start,
    stop,
    window,
)


async def test_another_streamer_cannot_command_the_session(container: Any, cast: Cast) -> None:
    session_id = await prepare(container, cast.streamer)
    refused = [
        cmd.ChangeSettings(session_id=session_id, actor_id=cast.rival.id, stream_delay_s=3),
        cmd.StartSession(session_id=session_id, actor_id=cast.rival.id),
        cmd.DeleteSession(session_id=session_id, actor_id=cast.rival.id),
    ]
    for command in refused:
        with pytest.raises(Forbidden):
            await container.bus.execute(command)
    await start(container, cast.streamer, session_id)
    for attempt in (
        move(container, cast.rival, session_id, "next"),
        window(container, cast.viewer, session_id, open=False),
        stop(container, cast.rival, session_id),
    ):
        with pytest.raises(Forbidden):
            await attempt
    row = await load(container, session_id)
    assert (row.status, row.current_index, row.votes_open) == ("active", 0, True)
    assert await event_types(container, session_id) == [
        "SessionPrepared",
        "SessionStarted",
        "TrackChanged",
        "VotesOpened",
    ]


async def test_an_admin_may_run_every_command_and_is_recorded_as_such(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer)
    await container.bus.execute(
        cmd.ChangeSettings(session_id=session_id, actor_id=cast.admin.id, stream_delay_s=4),
        actor=cast.admin.login,
    )
    await start(container, cast.admin, session_id)
    await move(container, cast.admin, session_id, "next")
    await window(container, cast.admin, session_id, open=False)
    await stop(container, cast.admin, session_id)
    await container.bus.execute(
        cmd.DeleteSession(session_id=session_id, actor_id=cast.admin.id), actor=cast.admin.login
    )
    async with container.db.session() as s:
        deleted = await s.scalar(
            select(StoredEventRow).where(
                StoredEventRow.stream == f"session-{session_id}",
                StoredEventRow.type == "SessionDeleted",
            )
        )
    assert deleted is not None
    assert deleted.payload["by_admin"] is True
    assert deleted.payload["by_user_id"] == cast.admin.id
    assert deleted.meta["actor"] == cast.admin.login


async def test_a_second_active_session_of_the_same_streamer_is_refused(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    first = await prepared_and_started(container, cast.streamer)
    second = await prepare(container, cast.streamer)
    calls_before = len(memory_ports.eventsub.calls)
    with pytest.raises(Conflict, match=f"session {first} is already active"):
        await start(container, cast.streamer, second)
    assert (await load(container, second)).status == "preparing"
    assert len(memory_ports.eventsub.calls) == calls_before
    rival_session = await prepared_and_started(container, cast.rival)
    assert (await load(container, rival_session)).status == "active"
    await stop(container, cast.streamer, first)
    await start(container, cast.streamer, second)
    assert (await load(container, second)).status == "active"


async def test_the_database_itself_refuses_two_active_sessions_per_streamer(
    container: Any, cast: Cast
) -> None:
    await prepared_and_started(container, cast.streamer)
    other = await prepare(container, cast.streamer)
    async with container.db.session() as s:
        with pytest.raises(IntegrityError, match="uq_sessions_one_active_per_user"):
            await s.execute(
                update(ListeningSession).where(ListeningSession.id == other).values(status="active")
            )
        await s.rollback()
        with pytest.raises(IntegrityError, match="uq_sessions_one_active_per_user"):
            await s.execute(
                text(
                    "INSERT INTO listening_sessions (user_id, status, scale, track_ids, timeline, "
                    "report, subscriptions) SELECT user_id, 'active', scale, track_ids, timeline, "
                    "report, subscriptions FROM listening_sessions WHERE id = :id"
                ),
                {"id": other},
            )


async def test_a_start_racing_another_start_is_undone_by_the_unique_index(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    """Both starts pass the code check; the index decides, and the loser undoes its steps."""
    racer = await prepare(container, cast.streamer)
    loser = await prepare(container, cast.streamer)
    eventsub = memory_ports.eventsub
    original = eventsub.subscribe

    async def subscribe_while_the_other_start_wins(broadcaster: str, types: Any) -> Any:
        subs = await original(broadcaster, types)
        async with container.db.session() as s:
            await s.execute(
                update(ListeningSession).where(ListeningSession.id == racer).values(status="active")
            )
            await s.commit()
        return subs

    eventsub.subscribe = subscribe_while_the_other_start_wins
    with pytest.raises(Conflict, match="another session is already active"):
        await start(container, cast.streamer, loser)
    row = await load(container, loser)
    assert row.status == "preparing"
    assert row.notice == "Could not start: another session is already active"
    assert eventsub.active == {}
    assert memory_ports.playback.names()[-1] == "pause"
    assert (await event_types(container, loser))[-1] == "SessionStartFailed"
