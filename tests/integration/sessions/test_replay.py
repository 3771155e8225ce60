"""Rebuilding reports from the event log alone (``premiere-ecoute events replay``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.replay import replay_all
from tests.support.sessions import (
    Cast,
    apply,
    at,
    ballot,
    load,
    move,
    poll_update,
    prepare,
    prepared_and_started,
    start,
)


async def _replay(c: Any, session_id: int | None = None) -> dict[int, list[str]]:
    async with c.db.session() as s:
        return await replay_all(s, c.store, session_id)


async def _voted_session(c: Any, cast: Cast, clock: Any) -> int:
    session_id = await prepared_and_started(c, cast.streamer, scale="1-5", vote_mode="poll")
    await apply(c, session_id, [ballot("a", "4", at(c, 1)), ballot("b", "2", at(c, 2))])
    await apply(c, session_id, [ballot("a", "5", at(c, 3))])
    await poll_update(c, "poll-1", {"3": 4, "5": 1})
    clock.advance(30)
    await move(c, cast.streamer, session_id, "next")
    await apply(c, session_id, [ballot("c", "1", at(c, 31))])
    return session_id


async def test_replay_of_untouched_sessions_finds_no_difference(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    voted = await _voted_session(container, cast, fake_clock)
    empty = await prepare(container, cast.rival)
    assert await _replay(container) == {voted: [], empty: []}


async def test_a_tampered_stored_report_is_reported_by_replay(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await _voted_session(container, cast, fake_clock)
    row = await load(container, session_id)
    tampered = dict(row.report)
    first = str(row.track_ids[0])
    tampered["tracks"] = {
        **row.report["tracks"],
        first: {**row.report["tracks"][first], "v": [0, 0, 0, 0, 9]},
    }
    async with container.db.session() as s:
        await s.execute(
            update(ListeningSession)
            .where(ListeningSession.id == session_id)
            .values(report=tampered)
        )
        await s.commit()
    found = (await _replay(container, session_id))[session_id]
    assert "tracks[0].distribution.5: stored 10, rebuilt 2" in found
    assert "tracks[0].voters: stored 9, rebuilt 2" in found
    assert any(line.startswith("viewer_score:") for line in found)


async def test_replay_follows_a_scale_changed_while_preparing(container: Any, cast: Cast) -> None:
    session_id = await prepare(container, cast.streamer)
    await container.bus.execute(
        cmd.ChangeSettings(session_id=session_id, actor_id=cast.streamer.id, scale="smash-pass")
    )
    await start(container, cast.streamer, session_id)
    await apply(container, session_id, [ballot("a", "smash", at(container, 1))])
    assert await _replay(container, session_id) == {session_id: []}
