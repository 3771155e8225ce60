"""Spotify playback through the JSON API, against the in-process fake Spotify: readable errors
for each Spotify failure, a start that succeeds once Spotify is back, a session that follows
the player, and votes that keep counting while Spotify is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.demo import create_token, create_user
from tests.support.runtime import start_monitors
from tests.support.spotify_world import ALBUM, SpotifyWorld, wait_until

OWNER = "fake-spotify-dj_host"


@pytest.fixture
async def api(make_container: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    c = await make_container()
    app = web_app(c, run_background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield c, client


async def _bearer(c: Any, login: str, role: str) -> dict[str, str]:
    user = await create_user(c, login, role, actor="test")
    return {"Authorization": f"Bearer {await create_token(c, user.id)}"}


async def test_streamer_runs_a_spotify_session_through_failures(
    api: tuple[Any, httpx.AsyncClient], world: SpotifyWorld
) -> None:
    c, client = api
    host = await _bearer(c, "dj_host", "streamer")
    fan = await _bearer(c, "fan_one", "viewer")
    created = await client.post(
        "/api/v1/sessions",
        json={"album": f"https://open.spotify.com/album/{ALBUM}?si=x", "playback": "spotify"},
        headers=host,
    )
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    start = f"/api/v1/sessions/{sid}/start"

    refusals = [
        (404, "NO_ACTIVE_DEVICE", None, 502, "Open Spotify on a device first"),
        (403, "PREMIUM_REQUIRED", None, 502, "Spotify Premium is required for playback control"),
        (500, None, None, 502, "Spotify is having trouble right now; please try again soon"),
        (429, None, 30, 502, "Spotify is rate limiting us; please wait 30 s"),
    ]
    for status, reason, retry_after, http_status, message in refusals:
        world.spotify.fail_next("PUT /me/player/play", status, reason, retry_after)
        refused = await client.post(start, headers=host)
        assert refused.status_code == http_status
        assert refused.json()["error"]["message"] == message
        view = (await client.get(f"/api/v1/sessions/{sid}", headers=host)).json()
        assert view["status"] == "preparing" and view["current_track"] is None
    # The 429 opened the circuit for Retry-After: no call goes out until it passes.
    blocked = await client.post(start, headers=host)
    assert blocked.status_code == 503 and "Retry-After" in blocked.headers
    world.breaker_clock.advance(31)

    started = await client.post(start, headers=host)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "active"
    assert world.spotify.player(OWNER).index == 0

    await start_monitors(c, rescan_s=0.05)
    world.spotify.skip_to(OWNER, 2)

    async def followed() -> bool:
        view = (await client.get(f"/api/v1/sessions/{sid}", headers=host)).json()
        return bool(view["current_track"]) and view["current_track"]["track_number"] == 3

    await wait_until(followed, what="the session to follow the skip made in Spotify")
    moved = await client.post(f"/api/v1/sessions/{sid}/next", headers=host)
    assert moved.status_code == 200 and world.spotify.player(OWNER).index == 3

    world.spotify.fail_next("GET /me/player", 503, times=10_000)
    breaker = c.breakers.get("spotify")

    async def circuit_open() -> bool:
        return breaker.state == "open"

    await wait_until(circuit_open, what="the Spotify circuit to open")
    voted = await client.post(f"/api/v1/sessions/{sid}/votes", json={"value": 9}, headers=fan)
    assert voted.status_code == 201, voted.text
    report = (await client.get(f"/api/v1/sessions/{sid}/report", headers=host)).json()
    assert report["votes"] == 1 and report["tracks"][3]["viewer_score"] == 9

    async def degraded_notice() -> bool:
        view = (await client.get(f"/api/v1/sessions/{sid}", headers=host)).json()
        return str(view["notice"] or "").startswith("Spotify unreachable, retrying")

    # The monitor writes the notice just after the reading that opened the circuit.
    await wait_until(degraded_notice, what="the streamer to be told Spotify is unreachable")

    world.spotify.failures.clear()
    world.breaker_clock.advance(11)
    stopped = await client.post(f"/api/v1/sessions/{sid}/stop", headers=host)
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert not world.spotify.player(OWNER).is_playing
