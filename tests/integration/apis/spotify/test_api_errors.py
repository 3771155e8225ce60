"""Spotify failures through the bus: clear messages, nothing half-started, a degraded monitor
that recovers, and votes that keep counting while Spotify's circuit is open."""

from __future__ import annotations

from typing import Any

import pytest

from premiere_ecoute.core.errors import ExternalServiceError, ServiceUnavailable
from premiere_ecoute.sessions.commands import CastVote, StartSession
from premiere_ecoute.sessions.monitor import DEGRADED
from tests.support.runtime import player_reading, start_monitors
from tests.support.spotify_world import (
    SpotifyWorld,
    prepared_session,
    session_row,
    started_session,
    streamer,
    wait_until,
)

OWNER = "fake-spotify-streamer_one"


@pytest.mark.parametrize(
    ("status", "reason", "retry_after", "message"),
    [
        (404, "NO_ACTIVE_DEVICE", None, "Open Spotify on a device first"),
        (403, "PREMIUM_REQUIRED", None, "Spotify Premium is required for playback control"),
        (429, None, 7, "Spotify is rate limiting us; please wait 7 s"),
        (503, None, None, "Spotify is having trouble right now; please try again soon"),
        ("timeout", None, None, "Spotify did not answer in time; please try again"),
    ],
)
async def test_failed_start_explains_why_and_leaves_nothing_started(
    sc: Any,
    world: SpotifyWorld,
    status: int | str,
    reason: str | None,
    retry_after: float | None,
    message: str,
) -> None:
    user = await streamer(sc)
    session_id = await prepared_session(sc, user)
    world.spotify.fail_next("PUT /me/player/play", status, reason, retry_after)

    with pytest.raises(ExternalServiceError) as caught:
        await sc.bus.execute(StartSession(session_id=session_id, actor_id=user.id))

    assert caught.value.message == message
    row = await session_row(sc, session_id)
    assert row.status == "preparing" and row.current_index is None
    assert row.notice == f"Could not start: {message}"
    # The EventSub subscriptions made before the failure were undone.
    assert not world.twitch.subscriptions
    assert not world.spotify.player(OWNER).is_playing


async def test_start_without_any_device_asks_to_open_spotify(sc: Any, world: SpotifyWorld) -> None:
    user = await streamer(sc)
    session_id = await prepared_session(sc, user)
    world.spotify.player(OWNER).devices.clear()

    with pytest.raises(ExternalServiceError, match="Open Spotify on a device first"):
        await sc.bus.execute(StartSession(session_id=session_id, actor_id=user.id))
    assert (await session_row(sc, session_id)).status == "preparing"


async def test_rate_limit_opens_the_circuit_for_retry_after(sc: Any, world: SpotifyWorld) -> None:
    user = await streamer(sc)
    world.spotify.fail_next("GET /me/player", 429, retry_after=20)

    with pytest.raises(ExternalServiceError, match="wait 20 s"):
        await sc.ports.playback.state(user.id)
    sent = len(world.spotify.requests)
    with pytest.raises(ServiceUnavailable):
        await sc.ports.playback.state(user.id)
    assert len(world.spotify.requests) == sent  # refused without calling Spotify

    world.breaker_clock.advance(21)
    assert await sc.ports.playback.state(user.id) is None  # nothing plays yet
    assert sc.breakers.get("spotify").state == "closed"


async def test_votes_count_while_spotify_is_down_and_the_monitor_recovers(
    sc: Any, world: SpotifyWorld
) -> None:
    from premiere_ecoute.demo import create_user
    from premiere_ecoute.sessions import queries

    supervisor = await start_monitors(sc, rescan_s=0.05)
    user = await streamer(sc)
    viewer = await create_user(sc, "viewer_one", "viewer", actor="test")
    session_id = await started_session(sc, user)
    world.spotify.fail_next("GET /me/player", 503, times=10_000)
    breaker = sc.breakers.get("spotify")

    async def degraded() -> bool:
        status = await player_reading(sc, session_id)
        return status.get("state") == "degraded" and breaker.state == "open"

    await wait_until(degraded, what="a degraded monitor with an open circuit")
    row = await session_row(sc, session_id)
    assert row.status == "active" and row.notice.startswith(DEGRADED)
    assert session_id in supervisor.monitored()

    await sc.bus.execute(CastVote(session_id=session_id, actor_id=viewer.id, value="8"))
    async with sc.db.session() as s:
        report = await queries.report(s, session_id)
    assert report["votes"] == 1 and report["tracks"][0]["viewer_score"] == 8

    world.spotify.failures.clear()
    world.breaker_clock.advance(11)  # past the breaker's recovery time: a probe may go out

    async def recovered() -> bool:
        status = await player_reading(sc, session_id)
        return status.get("state") == "playing" and breaker.state == "closed"

    # If the monitor read the open circuit before the clock moved (a slow vote above), it
    # waits out the circuit's 10 s in real time before its next reading.
    await wait_until(recovered, timeout=15, what="the monitor to recover")
    assert (await session_row(sc, session_id)).notice is None
    world.spotify.skip_to(OWNER, 1)

    async def followed() -> bool:
        return (await session_row(sc, session_id)).current_index == 1

    await wait_until(followed, what="following to resume")
