"""Helpers of the tests that drive sessions through the bus: a cast of users (the ``cast``
fixture), commands, votes, log reads. A plugin of the root conftest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.queries import report
from premiere_ecoute.sessions.repository import get_session
from premiere_ecoute.sessions.voting import (
    IncomingVote,
    VoteOutcome,
    apply_votes,
    record_poll_tally,
)


@dataclass
class Cast:
    streamer: User
    rival: User
    viewer: User
    admin: User
    bot: User


async def make_cast(c: Any) -> Cast:
    return Cast(
        streamer=await create_user(c, "streamerone", "streamer"),
        rival=await create_user(c, "streamertwo", "streamer"),
        viewer=await create_user(c, "viewerone", "viewer"),
        admin=await create_user(c, "adminone", "admin"),
        bot=await create_user(c, "botone", "bot"),
    )


@pytest.fixture
async def cast(container: Any) -> Cast:
    return await make_cast(container)


async def prepare(c: Any, user: User, **options: Any) -> int:
    options.setdefault("album", "4aawyAB9vmqN3uQ7FjRGTy")
    row = await c.bus.execute(cmd.PrepareSession(user_id=user.id, **options))
    return int(row.id)


async def start(c: Any, user: User, session_id: int) -> None:
    await c.bus.execute(cmd.StartSession(session_id=session_id, actor_id=user.id))


async def prepared_and_started(c: Any, user: User, **options: Any) -> int:
    session_id = await prepare(c, user, **options)
    await start(c, user, session_id)
    return session_id


async def move(
    c: Any, user: User, session_id: int, direction: str, position: int | None = None
) -> ListeningSession:
    return await c.bus.execute(
        cmd.ChangeTrack(
            session_id=session_id,
            actor_id=user.id,
            direction=direction,  # type: ignore[arg-type]
            position=position,
        )
    )


async def window(c: Any, user: User, session_id: int, *, open: bool) -> None:
    await c.bus.execute(cmd.SetVoteWindow(session_id=session_id, actor_id=user.id, open=open))


async def stop(c: Any, user: User, session_id: int) -> ListeningSession:
    return await c.bus.execute(cmd.StopSession(session_id=session_id, actor_id=user.id))


async def load(c: Any, session_id: int) -> ListeningSession:
    async with c.db.session() as s:
        return await get_session(s, session_id)


async def event_types(c: Any, session_id: int) -> list[str]:
    async with c.db.session() as s:
        rows = await s.scalars(
            select(StoredEventRow.type)
            .where(StoredEventRow.stream == f"session-{session_id}")
            .order_by(StoredEventRow.version)
        )
        return list(rows)


def ballot(
    viewer: str, option: str, at: dt.datetime, *, streamer: bool = False, source: str = "chat"
) -> IncomingVote:
    return IncomingVote(
        viewer_id=viewer, option=option, is_streamer=streamer, source=source, sent_at=at
    )


async def apply(c: Any, session_id: int, votes: Sequence[IncomingVote]) -> VoteOutcome:
    """Apply votes as the ingest does: session row locked, events logged, one commit."""
    async with c.bus.unit_of_work(actor="test") as uow:
        row = await get_session(uow.session, session_id, lock=True)
        outcome = await apply_votes(uow.session, row, votes)
        for ev in outcome.accepted:
            uow.record(ev)
        await uow.commit()
    return outcome


async def poll_update(c: Any, poll_id: str, counts: dict[str, int], *, final: bool = False) -> bool:
    """A poll progress/end notification as the ingest applies it; False when unknown."""
    async with c.bus.unit_of_work(actor="test") as uow:
        done = await record_poll_tally(uow.session, poll_id, counts, final=final, at=c.clock.now())
        if done is not None:
            uow.record(done)
        await uow.commit()
    return done is not None


async def live_report(c: Any, session_id: int) -> dict[str, Any]:
    async with c.db.session() as s:
        return await report(s, session_id)


def at(c: Any, seconds: float) -> dt.datetime:
    """A moment ``seconds`` after the session start (the fake clock's initial time)."""
    return FakeClock().now() + dt.timedelta(seconds=seconds)
