"""Demo data: a streamer, a viewer, an admin, a bot, and one finished session with realistic
votes, so every page has something to show on a fresh install. Also how the command line
creates a user (with the fakes on, linked to them).

The demo session is played through the real handlers with an offline outside world: it never
calls Twitch or Spotify, not even the fakes (only the catalogue, to find an album)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from premiere_ecoute.accounts.commands import CreateApiToken, RegisterUser
from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_count
from premiere_ecoute.apis.fakes import DEMO_USERS, fake_twitch_id, link_to_fakes
from premiere_ecoute.bootstrap import Container
from premiere_ecoute.core.errors import N_, ExternalServiceError, refuse
from premiere_ecoute.core.messages import Command
from premiere_ecoute.discography.models import Device, PlaybackState
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.handlers import lifecycle, playing
from premiere_ecoute.sessions.ports import MarkerRefused, SessionPorts, Subscription
from premiere_ecoute.sessions.repository import get_session
from premiere_ecoute.sessions.voting import IncomingVote, apply_votes


async def create_user(c: Container, login: str, role: str, *, actor: str = "cli") -> User:
    """Register a user. With the fakes on, also link the fake Twitch identity and the fake
    Spotify (one active device), so a streamer can start a session at once."""
    login = login.strip().lower()
    fakes = c.settings.use_fakes
    user: User = await c.bus.execute(
        RegisterUser(
            login=login, role=role, twitch_user_id=fake_twitch_id(login) if fakes else None
        ),
        actor=actor,
    )
    if fakes:
        await link_to_fakes(c.bus, user, actor=actor)
    return user


async def create_token(c: Container, user_id: int, name: str = "cli") -> str:
    token: str = await c.bus.execute(CreateApiToken(user_id=user_id, name=name))
    return token


class _Offline:
    """Playback, EventSub, polls and chat of a world with nobody in it."""

    async def ensure_device(self, user_id: int, device_id: str | None = None) -> str:
        raise ExternalServiceError(N_("the demo plays by hand"))

    async def prepare(self, user_id: int, device_id: str) -> None:
        return None

    async def play_context(
        self, user_id: int, context_uri: str, position: int, device_id: str | None = None
    ) -> None:
        return None

    async def pause(self, user_id: int) -> None:
        return None

    async def resume(self, user_id: int) -> None:
        return None

    async def state(self, user_id: int) -> PlaybackState | None:
        return None

    async def list_devices(self, user_id: int) -> list[Device]:
        return []

    async def transfer(self, user_id: int, device_id: str) -> None:
        return None

    async def subscribe(self, broadcaster_id: str, types: Sequence[str]) -> list[Subscription]:
        return []

    async def unsubscribe(self, subscription_ids: Sequence[str]) -> None:
        return None

    async def live(self) -> dict[str, str]:
        return {}

    async def create_poll(
        self, broadcaster_id: str, title: str, choices: Sequence[str], duration_s: int
    ) -> str:
        raise ExternalServiceError(N_("the demo has no polls"))

    async def end_poll(self, broadcaster_id: str, poll_id: str) -> None:
        return None

    def announce(self, broadcaster_id: str, text: str) -> None:
        return None

    async def create_marker(self, broadcaster_id: str, description: str) -> None:
        raise refuse(MarkerRefused, N_("the demo is not streaming"), extra={"reason": "offline"})


Handler = Callable[..., Awaitable[Any]]


async def _run(c: Container, handler: Handler, command: Command, **deps: Any) -> Any:
    command.validate()
    async with c.bus.unit_of_work(actor="demo") as uow:
        result = await handler(command, uow, **deps)
        await uow.commit()
    return result


async def seed(c: Container, *, viewers: int = 40, seed_value: int = 7) -> dict[str, Any]:
    """Create the demo users and a finished session. Returns what was created."""
    users = {}
    for login, role in DEMO_USERS:
        users[login] = await create_user(c, login, role, actor="demo")
    streamer = users["demostreamer"]
    offline = _Offline()
    ports = SessionPorts(
        catalog=c.ports.catalog,
        playback=offline,
        eventsub=offline,
        polls=offline,
        chat=offline,
        clock=c.clock,
        markers=offline,
    )
    albums = await c.ports.catalog.search_albums("a", 10)
    album = max(albums, key=lambda a: a.total_tracks)
    row = await _run(
        c,
        lifecycle.prepare,
        cmd.PrepareSession(user_id=streamer.id, album=album.spotify_id, playback="manual"),
        ports=ports,
    )
    await _run(
        c, lifecycle.start, cmd.StartSession(session_id=row.id, actor_id=streamer.id), ports=ports
    )
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
                ports=ports,
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
    await _run(
        c, lifecycle.stop, cmd.StopSession(session_id=row.id, actor_id=streamer.id), ports=ports
    )
    return {"users": list(users), "session_id": row.id, "album": album.name}


async def seed_if_empty(c: Container) -> None:
    """Seed on first start only: an instance with any user is left alone."""
    async with c.db.session() as s:
        count = await user_count(s)
    if not count:
        await seed(c)
