"""Twitch stream markers at each track of an active session, end to end with the fake Twitch:
created through the Helix client; the refusals (offline channel, missing scope, rate limit)
are told on the session once and never stop the show."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from premiere_ecoute.apis.twitch.models import MARKER_SCOPE, TWITCH_SCOPES
from premiere_ecoute.config import Settings
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import repository as repo
from tests.support.twitch_world import fake_album_id, session_row, twitch_settings


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return twitch_settings(clean_db)


async def _start(c: Any, login: str = "streamer") -> tuple[int, int]:
    user = await create_user(c, login, "streamer")
    row = await c.bus.execute(
        cmd.PrepareSession(user_id=user.id, album=fake_album_id(), playback="manual")
    )
    await c.bus.execute(cmd.StartSession(session_id=row.id, actor_id=user.id))
    await c.markers.drain()
    return row.id, user.id


async def _next(c: Any, session_id: int, user_id: int) -> None:
    await c.bus.execute(cmd.ChangeTrack(session_id=session_id, actor_id=user_id, direction="next"))
    await c.markers.drain()


async def _titles(c: Any, session_id: int) -> list[str]:
    async with c.db.session() as s:
        row = await repo.get_session(s, session_id)
        return [f"{r.track_number}. {r.name}" for r in await repo.track_refs(s, row)]


async def _clear_notice(c: Any, session_id: int) -> None:
    async with c.db.session() as s, s.begin():
        (await repo.get_session(s, session_id, lock=True)).notice = None


async def test_a_marker_at_the_start_and_at_each_track_change(fake_container: Any) -> None:
    c = fake_container
    session_id, user_id = await _start(c)
    await _next(c, session_id, user_id)
    await _next(c, session_id, user_id)
    titles = await _titles(c, session_id)
    assert c.fakes.twitch.markers_of("streamer") == titles[:3]
    row = await session_row(c, session_id)
    assert row.marker_status == "ok" and row.notice is None


async def test_an_offline_channel_is_told_once_and_the_show_goes_on(fake_container: Any) -> None:
    c = fake_container
    c.fakes.twitch.go_offline("streamer")
    session_id, user_id = await _start(c)
    row = await session_row(c, session_id)
    assert row.marker_status == "offline"
    assert row.notice is not None and "live stream" in row.notice
    await _clear_notice(c, session_id)
    await _next(c, session_id, user_id)
    row = await session_row(c, session_id)
    assert row.current_index == 1 and row.status == "active"
    assert row.notice is None  # the same refusal is not told again
    c.fakes.twitch.go_live("streamer")
    await _next(c, session_id, user_id)
    assert c.fakes.twitch.markers_of("streamer") == (await _titles(c, session_id))[2:3]
    assert (await session_row(c, session_id)).marker_status == "ok"


async def test_a_missing_scope_asks_to_grant_it(fake_container: Any) -> None:
    c = fake_container
    c.fakes.twitch.grant("streamer", [s for s in TWITCH_SCOPES if s != MARKER_SCOPE])
    session_id, user_id = await _start(c)
    row = await session_row(c, session_id)
    assert row.marker_status == "scope"
    assert row.notice is not None and "Grant stream markers" in row.notice
    await _next(c, session_id, user_id)
    assert c.fakes.twitch.markers_of("streamer") == []
    assert (await session_row(c, session_id)).current_index == 1


async def test_the_rate_limit_is_waited_once_then_told(fake_container: Any) -> None:
    c = fake_container
    fake = c.fakes.twitch
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    c.twitch._transport._sleep = no_sleep  # the bucket's reset is a minute away
    session_id, user_id = await _start(c)
    fake.rate_limit_points, fake.buckets = 0, {}  # every call from now on answers 429
    await _next(c, session_id, user_id)
    row = await session_row(c, session_id)
    assert row.marker_status == "rate_limited" and row.current_index == 1
    assert row.notice is not None and "rate limit" in row.notice
    assert waits and 0 < waits[0] <= 60  # waited for the reset once before giving up
    fake.rate_limit_points, fake.buckets = 800, {}
    await _next(c, session_id, user_id)
    assert fake.markers_of("streamer") == [(await _titles(c, session_id))[i] for i in (0, 2)]
    row = await session_row(c, session_id)
    assert row.marker_status == "ok" and row.notice is None  # our notice is gone once it works


async def test_a_hanging_twitch_does_not_delay_a_track_change(
    container: Any, memory_ports: Any
) -> None:
    c = container
    hang = asyncio.Event()

    async def never(broadcaster_id: str, description: str) -> None:
        await hang.wait()

    memory_ports.markers.create_marker = never
    user = await create_user(c, "streamer", "streamer")
    row = await c.bus.execute(
        cmd.PrepareSession(user_id=user.id, album="4aawyAB9vmqN3uQ7FjRGTy", playback="manual")
    )
    await asyncio.wait_for(c.bus.execute(cmd.StartSession(session_id=row.id, actor_id=user.id)), 5)
    await asyncio.wait_for(
        c.bus.execute(cmd.ChangeTrack(session_id=row.id, actor_id=user.id, direction="next")), 5
    )
    assert (await session_row(c, row.id)).current_index == 1
    hang.set()
    await c.markers.drain()
