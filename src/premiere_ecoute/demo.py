"""Demo data: a streamer, a viewer, an admin, a bot, and one finished session with realistic
votes, so every page has something to show on a fresh install."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from premiere_ecoute.accounts.models import User
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import handlers, playing
from premiere_ecoute.sessions.handlers import SessionPorts
from premiere_ecoute.sessions.memory_ports import (
    MemoryChat,
    MemoryEventSub,
    MemoryPlayback,
    MemoryPolls,
)
from premiere_ecoute.sessions.repository import get_session
from premiere_ecoute.sessions.voting import IncomingVote, apply_votes

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container
    from premiere_ecoute.config import Settings

DEMO_USERS = (
    ("demostreamer", "streamer"),
    ("demoviewer", "viewer"),
    ("demoadmin", "admin"),
    ("demobot", "bot"),
)


async def _run(c: Container, handler: Any, command: Any, ports: SessionPorts | None) -> Any:
    command.validate()
    async with c.bus.unit_of_work(actor="demo") as uow:
        result = await (handler(command, uow, ports) if ports else handler(command, uow))
        await uow.commit()
    await c.dispatcher.dispatch(uow.committed)
    return result


async def seed(c: Container, *, viewers: int = 40, seed_value: int = 7) -> dict[str, Any]:
    """Create the demo users and a finished session. Returns what was created."""
    from premiere_ecoute.accounts.service import create_user

    users = {}
    for login, role in DEMO_USERS:
        users[login] = await create_user(c, login, role, actor="demo")
    streamer = users["demostreamer"]
    # Offline ports: the demo never calls Twitch or Spotify, even the fakes.
    ports = SessionPorts(
        catalog=c.ports.catalog,
        playback=MemoryPlayback(),
        eventsub=MemoryEventSub(),
        polls=MemoryPolls(),
        chat=MemoryChat(),
        clock=c.clock,
    )
    albums = await c.ports.catalog.search_albums("a", 10)
    album = max(albums, key=lambda a: a.total_tracks)
    row = await _run(
        c,
        handlers.prepare,
        cmd.PrepareSession(user_id=streamer.id, album=album.spotify_id, playback="manual"),
        ports,
    )
    await _run(c, handlers.start, cmd.StartSession(session_id=row.id, actor_id=streamer.id), ports)
    rng = random.Random(seed_value)
    crowd = [str(900_000_000 + i) for i in range(viewers)]
    for position in range(len(row.track_ids)):
        if position:
            await _run(
                c,
                playing.change_track,
                cmd.ChangeTrack(
                    session_id=row.id, actor_id=streamer.id, direction="next", move_player=False
                ),
                ports,
            )
        mood = rng.uniform(4.5, 8.5)
        votes = [
            IncomingVote(
                viewer_id=v,
                option=str(max(0, min(10, round(rng.gauss(mood, 1.8))))),
                is_streamer=False,
                source="chat",
                sent_at=c.clock.now(),
            )
            for v in rng.sample(crowd, rng.randint(viewers // 2, viewers))
        ]
        votes.append(
            IncomingVote(
                viewer_id=streamer.twitch_user_id or f"user:{streamer.id}",
                option=str(max(0, min(10, round(mood + rng.uniform(-1, 1))))),
                is_streamer=True,
                source="control",
                sent_at=c.clock.now(),
            )
        )
        async with c.bus.unit_of_work(actor="demo") as uow:
            locked = await get_session(uow.session, row.id, lock=True)
            outcome = await apply_votes(uow.session, locked, votes)
            for ev in outcome.accepted:
                uow.record(ev)
            await uow.commit()
    await _run(c, playing.stop, cmd.StopSession(session_id=row.id, actor_id=streamer.id), ports)
    return {"users": list(users), "session_id": row.id, "album": album.name}


async def seed_if_empty(settings: Settings, database_url: str) -> None:
    """Seed on first start only: an instance with any user is left alone."""
    from premiere_ecoute.bootstrap import build

    c = build(settings, database_url=database_url)
    try:
        async with c.db.session() as s:
            count = await s.scalar(select(func.count()).select_from(User))
        if not count:
            await seed(c)
    finally:
        await c.stop()
