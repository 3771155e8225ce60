"""A container on the real ports over an in-process fake Spotify whose player runs on a clock
the test moves (``world.clock``), so tracks end exactly when a test says so: the ``world``,
``spotify_settings``, ``make_container`` and ``sc`` fixtures, and helpers to start a Spotify
session and watch it. A plugin of the root conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from premiere_ecoute.apis.fakes import Fakes
from premiere_ecoute.apis.spotify.fake.routes import create_fake_spotify_app
from premiere_ecoute.apis.spotify.fake.state import FakeSpotify
from premiere_ecoute.apis.spotify.fake.testing import ASGITransportWithTimeouts
from premiere_ecoute.apis.twitch.fake.app import create_fake_twitch_app
from premiere_ecoute.apis.twitch.fake.state import FakeTwitch
from premiere_ecoute.bootstrap import FAKE_SPOTIFY, FAKE_TWITCH
from premiere_ecoute.config import Settings
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from tests.conftest import make_settings

ALBUM = "d1jNINvHEZEQgYMAB8Vgzy"  # "Glass Harvest": 5 tracks in the fake catalogue


@dataclass
class SpotifyWorld:
    spotify: FakeSpotify
    twitch: FakeTwitch
    fakes: Fakes
    clock: FakeClock  # the fake Spotify's player
    breaker_clock: FakeClock  # the circuit breakers of the containers ``make_container`` builds

    def api_http(self, timeout: float = 3.0) -> httpx.AsyncClient:
        # Generous for a loaded machine; an injected timeout hangs longer (FakeSpotify below).
        return httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            mounts={
                FAKE_SPOTIFY: ASGITransportWithTimeouts(self.fakes.spotify_app),
                FAKE_TWITCH: httpx.ASGITransport(app=self.fakes.twitch_app),
            },
        )


@pytest.fixture
def world() -> SpotifyWorld:
    clock = FakeClock()
    spotify = FakeSpotify(clock=clock.monotonic, timeout_s=10.0)
    twitch = FakeTwitch()
    fakes = Fakes(spotify, twitch, create_fake_spotify_app(spotify), create_fake_twitch_app(twitch))
    return SpotifyWorld(spotify, twitch, fakes, clock, FakeClock())


@pytest.fixture
def spotify_settings(clean_db: str) -> Settings:
    return make_settings(database_url=clean_db, player_poll_s=0.02)


Builder = Callable[..., Awaitable[Any]]


@pytest.fixture
async def make_container(spotify_settings: Settings, world: SpotifyWorld) -> AsyncIterator[Builder]:
    """Build containers on the real ports over ``world``'s fakes (several share one DB)."""
    from premiere_ecoute.bootstrap import build
    from premiere_ecoute.core.broker import InMemoryBroker

    built: list[Any] = []

    async def factory(**overrides: Any) -> Any:
        overrides.setdefault("broker", InMemoryBroker())
        overrides.setdefault(
            "breakers",
            BreakerRegistry(
                failure_threshold=3, recovery_s=10.0, clock=world.breaker_clock.monotonic
            ),
        )
        c = build(
            spotify_settings,
            database_url=spotify_settings.database_url,
            fakes=world.fakes,
            api_http=world.api_http(),
            pool_size=3,
            **overrides,
        )
        await c.start()
        built.append(c)
        return c

    yield factory
    for c in reversed(built):
        await c.stop()


@pytest.fixture
async def sc(make_container: Builder) -> Any:
    """The container most tests need."""
    return await make_container()


async def streamer(c: Any, login: str = "streamer_one") -> Any:
    from premiere_ecoute.demo import create_user

    return await create_user(c, login, "streamer", actor="test")


async def prepared_session(c: Any, user: Any, **options: Any) -> int:
    from premiere_ecoute.sessions.commands import PrepareSession

    options.setdefault("playback", "spotify")
    row = await c.bus.execute(PrepareSession(user_id=user.id, album=ALBUM, **options))
    return int(row.id)


async def started_session(c: Any, user: Any, **options: Any) -> int:
    from premiere_ecoute.sessions.commands import StartSession

    session_id = await prepared_session(c, user, **options)
    await c.bus.execute(StartSession(session_id=session_id, actor_id=user.id))
    return session_id


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def session_row(c: Any, session_id: int) -> Any:
    from premiere_ecoute.sessions.models import ListeningSession

    async with c.db.session() as s:
        return await s.get(ListeningSession, session_id)


async def track_changes(c: Any, session_id: int) -> list[dict[str, Any]]:
    """Payloads of the session's TrackChanged events, oldest first."""
    from sqlalchemy import select

    from premiere_ecoute.core.event_store import StoredEventRow

    async with c.db.session() as s:
        rows = await s.scalars(
            select(StoredEventRow.payload)
            .where(
                StoredEventRow.stream == f"session-{session_id}",
                StoredEventRow.type == "TrackChanged",
            )
            .order_by(StoredEventRow.position)
        )
        return list(rows)
