"""The player of the control page (SPEC §9): device picker, play/pause and progress, and the
feed of the latest votes. Player actions call the Playback port, not the bus; in-memory ports
for the rules, the real adapters over the fake Spotify for what reaches Spotify."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from premiere_ecoute.apis.spotify.api import PREMIUM_MESSAGE
from premiere_ecoute.apis.spotify.fake.player import FakeDevice
from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.core.errors import ExternalServiceError
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.repository import set_player
from tests.conftest import make_settings
from tests.support.pages import CSRF, browser, form
from tests.support.sessions import (
    Cast,
    apply,
    ballot,
    prepare,
    prepared_and_started,
)
from tests.support.spotify_world import (
    ALBUM,
    SpotifyWorld,
    streamer,
)

HX = {"hx-request": "true", "accept": "text/html", "x-csrf-token": CSRF}


@pytest.fixture
def app(container: Any) -> Any:
    return web_app(container, run_background=False)


async def _act(client: httpx.AsyncClient, session_id: int, action: str, **data: str) -> Any:
    return await client.post(f"/sessions/{session_id}/actions/{action}", data=data, headers=HX)


# Rules, with the in-memory Playback --------------------------------------------------------


async def test_owner_pauses_and_resumes_the_player(
    container: Any, memory_ports: Any, cast: Cast, app: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, playback="spotify")
    player = memory_ports.playback

    async with browser(container, app, cast.streamer.id) as web:
        paused = await _act(web, session_id, "pause")
        after_pause = (dict(player.playing), dict(player.paused))
        resumed = await _act(web, session_id, "resume")

    assert paused.status_code == 200 and "Playback paused." in paused.text
    assert resumed.status_code == 200 and "Playback resumed." in resumed.text
    assert cast.streamer.id not in after_pause[0] and cast.streamer.id in after_pause[1]
    assert cast.streamer.id in player.playing and not player.paused


async def test_admin_may_drive_the_player_of_a_session(
    container: Any, memory_ports: Any, cast: Cast, app: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, playback="spotify")

    async with browser(container, app, cast.admin.id) as web:
        paused = await _act(web, session_id, "pause")

    assert paused.status_code == 200
    assert ("pause", (cast.streamer.id,)) in memory_ports.playback.calls


async def test_player_actions_refuse_strangers_and_forged_posts(
    container: Any, memory_ports: Any, cast: Cast, app: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, playback="spotify")
    url = f"/sessions/{session_id}/actions/pause"

    async with browser(container, app, cast.rival.id) as rival:
        by_rival = await rival.post(url, headers=HX)
    async with browser(container, app) as anonymous:
        by_anonymous = await anonymous.post(url, headers=HX)
    async with browser(container, app, cast.streamer.id) as owner:
        forged = await owner.post(
            url, data={"csrf_token": "guessed"}, headers={"accept": "text/html"}
        )
        no_token = await owner.post(url, headers={"accept": "text/html"})
        paused_before = "pause" in memory_ports.playback.names()
        genuine = await owner.post(url, data=form(), headers={"accept": "text/html"})

    assert by_rival.status_code == 403 and "Only the streamer" in by_rival.text
    assert by_anonymous.status_code == 401
    assert forged.status_code == 403 and no_token.status_code == 403
    assert not paused_before
    assert genuine.status_code == 303
    assert genuine.headers["location"] == f"/sessions/{session_id}"
    assert memory_ports.playback.names().count("pause") == 1


async def test_spotify_refusal_is_shown_as_a_message_never_a_500(
    container: Any, memory_ports: Any, cast: Cast, app: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, playback="spotify")
    memory_ports.playback.fail_on["pause"] = ExternalServiceError(
        PREMIUM_MESSAGE, service="spotify"
    )
    memory_ports.playback.fail_on["resume"] = ExternalServiceError(
        PREMIUM_MESSAGE, service="spotify"
    )

    async with browser(container, app, cast.streamer.id) as web:
        refused = await _act(web, session_id, "pause")
        in_french = await web.post(f"/sessions/{session_id}/actions/resume?locale=fr", headers=HX)

    assert refused.status_code == 502
    assert PREMIUM_MESSAGE in refused.text and "feedback-error" in refused.text
    assert in_french.status_code == 502
    assert "Spotify Premium est requis" in in_french.text


async def test_player_actions_need_a_running_spotify_session(
    container: Any, memory_ports: Any, cast: Cast, app: Any
) -> None:
    manual = await prepared_and_started(container, cast.streamer, playback="manual")
    waiting = await prepare(container, cast.rival, playback="spotify")

    async with browser(container, app, cast.streamer.id) as web:
        by_hand = await _act(web, manual, "pause")
    async with browser(container, app, cast.rival.id) as web:
        not_started = await _act(web, waiting, "resume")
        no_device = await _act(web, waiting, "device", device_id="")

    assert by_hand.status_code == 409 and "played by hand" in by_hand.text
    assert not_started.status_code == 409 and "Start the session first" in not_started.text
    assert no_device.status_code == 422 and "Choose a device" in no_device.text
    assert not {"pause", "resume", "transfer"} & set(memory_ports.playback.names())


async def test_control_page_shows_the_player_for_spotify_sessions_only(
    container: Any, memory_ports: Any, cast: Cast, app: Any
) -> None:
    memory_ports.playback.devices.append("phone")
    memory_ports.playback.active_device = "phone"
    spotify = await prepared_and_started(container, cast.streamer, playback="spotify")
    manual = await prepared_and_started(container, cast.rival, playback="manual")

    async with browser(container, app, cast.streamer.id) as web:
        page = (await web.get(f"/sessions/{spotify}")).text
    async with browser(container, app, cast.rival.id) as web:
        by_hand = (await web.get(f"/sessions/{manual}")).text

    assert "data-player" in page and 'data-progress="track"' in page
    assert re.search(r'<option value="phone"\s+selected>', page)
    assert re.search(r'<option value="device-1"\s+>', page)
    assert 'data-action="pause"' in page and 'data-action="resume"' in page
    # A manual session hides the player (its class shows the manual controls instead), and
    # keeps it in the page for a switch to Spotify mid-show.
    assert "playback-manual" in by_hand and "playback-spotify" in page
    assert 'class="only-active only-spotify player"' in by_hand
    assert 'class="button only-manual" data-action="next"' in by_hand


# The feed of the latest votes ---------------------------------------------------------------


async def _voted_session(container: Any, cast: Cast) -> int:
    session_id = await prepared_and_started(container, cast.streamer, playback="manual")
    t0 = container.clock.now()
    await apply(
        container,
        session_id,
        [
            ballot("11112222", "4", t0 + dt.timedelta(seconds=1)),
            ballot("33334444", "9", t0 + dt.timedelta(seconds=2), source="web"),
            ballot(
                str(cast.streamer.twitch_user_id), "7", t0 + dt.timedelta(seconds=3), streamer=True
            ),
        ],
    )
    return session_id


async def test_latest_votes_are_newest_first_with_masked_viewers(
    container: Any, cast: Cast
) -> None:
    session_id = await _voted_session(container, cast)
    later = container.clock.now() + dt.timedelta(seconds=4)
    await apply(container, session_id, [ballot("11112222", "6", later)])  # changes their rating

    async with container.db.session() as s:
        feed = await queries.latest_votes(s, session_id)
        two = await queries.latest_votes(s, session_id, limit=2)

    assert [(v["viewer"], v["value"], v["source"]) for v in feed] == [
        ("viewer …2222", "6", "chat"),
        ("streamer", "7", "chat"),
        ("viewer …4444", "9", "web"),
    ]
    assert [v["is_streamer"] for v in feed] == [False, True, False]
    assert all(v["track_number"] == 1 and v["track_name"] == "Morning Static" for v in feed)
    assert "11112222" not in repr(feed) and "33334444" not in repr(feed)
    assert [v["id"] for v in two] == [v["id"] for v in feed[:2]]
    assert feed[0]["sent_at"] == later.isoformat()


async def test_control_page_lists_the_latest_votes(container: Any, cast: Cast, app: Any) -> None:
    session_id = await _voted_session(container, cast)

    async with browser(container, app, cast.streamer.id) as web:
        page = (await web.get(f"/sessions/{session_id}", params={"locale": "fr"})).text

    feed = page[page.index("data-vote-feed") :]
    who = re.findall(r'<span class="feed-who">([^<]+)</span>', feed)
    assert who == ["Streamer", "spectateur …4444", "spectateur …2222"]
    assert "33334444" not in page


async def snapshot(c: Any, topic: str) -> dict[str, Any]:
    kind, _, ident = topic.partition(":")
    key = "session_id" if kind == "session" else "streamer_id"
    async with c.db.session() as s:
        return await queries.live_view(s, **{key: int(ident)}, now=c.clock.now())


async def store_reading(c: Any, session_id: int, reading: dict[str, Any]) -> None:
    async with c.bus.unit_of_work(actor="test") as uow:
        await set_player(uow.session, session_id, reading)
        await uow.commit()


async def test_snapshot_carries_the_feed_and_the_track_progress(container: Any, cast: Cast) -> None:
    session_id = await _voted_session(container, cast)
    topic = f"session:{session_id}"

    unknown = await snapshot(container, topic)
    reading = {
        "position": 1,
        "is_playing": True,
        "progress_ms": 60_000,
        "duration_ms": 180_000,
        "checked_at": container.clock.now().isoformat(),
    }
    await store_reading(container, session_id, reading)
    container.clock.advance(2)
    playing = await snapshot(container, topic)
    await store_reading(container, session_id, {**reading, "position": 2})  # Spotify elsewhere
    elsewhere = await snapshot(container, topic)
    idle = await snapshot(container, "streamer:999999")

    assert [v["value"] for v in unknown["latest_votes"]] == ["7", "9", "4"]
    assert unknown["track"]["duration_ms"] == 180_000  # the first track of the sample album
    assert unknown["track"]["progress_ms"] is None and unknown["track"]["is_playing"] is None
    assert playing["track"]["is_playing"] is True
    assert playing["track"]["progress_ms"] == 62_000  # moved on since the reading
    assert elsewhere["track"]["progress_ms"] is None
    assert idle["latest_votes"] == [] and idle["track"] is None


async def test_pausing_stops_the_progress_the_live_pages_show(
    container: Any, cast: Cast, app: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, playback="spotify")
    reading = {
        "position": 1,
        "is_playing": True,
        "progress_ms": 30_000,
        "duration_ms": 180_000,
        "checked_at": container.clock.now().isoformat(),
    }
    await store_reading(container, session_id, reading)
    container.clock.advance(3)

    async with browser(container, app, cast.streamer.id) as web:
        await _act(web, session_id, "pause")
    paused = (await snapshot(container, f"session:{session_id}"))["track"]

    assert paused["is_playing"] is False
    assert paused["progress_ms"] == 33_000  # where it was paused, and it stays there
    container.clock.advance(5)
    assert (await snapshot(container, f"session:{session_id}"))["track"] == paused


# Through the real adapters to the fake Spotify ----------------------------------------------


@pytest.fixture
async def spotify_app(clean_db: str, world: SpotifyWorld) -> AsyncIterator[Any]:
    from premiere_ecoute.bootstrap import build
    from premiere_ecoute.core.broker import InMemoryBroker

    settings = make_settings(database_url=clean_db)
    c = build(
        settings,
        database_url=clean_db,
        fakes=world.fakes,
        api_http=world.api_http(),
        broker=InMemoryBroker(),
        pool_size=3,
    )
    await c.start()
    try:
        yield web_app(c, run_background=False)
    finally:
        await c.stop()


async def _spotify_session(c: Any) -> tuple[Any, int]:
    from premiere_ecoute.sessions.commands import PrepareSession, StartSession

    user = await streamer(c, "streamerone")
    row = await c.bus.execute(PrepareSession(user_id=user.id, album=ALBUM, playback="spotify"))
    await c.bus.execute(StartSession(session_id=row.id, actor_id=user.id))
    return user, int(row.id)


async def test_choosing_a_device_moves_spotify_playback_there(
    spotify_app: Any, world: SpotifyWorld
) -> None:
    c = spotify_app.state.deps
    user, session_id = await _spotify_session(c)
    player = world.spotify.player("fake-spotify-streamerone")
    player.devices.append(FakeDevice("phone-1", "Phone", "Smartphone"))

    async with browser(c, spotify_app, user.id) as web:
        picker = await web.get(f"/sessions/{session_id}/devices")
        moved = await _act(web, session_id, "device", device_id="phone-1")
        unknown = await _act(web, session_id, "device", device_id="nowhere")

    assert picker.status_code == 200
    assert 'value="phone-1"' in picker.text and "Fake Speaker" in picker.text
    assert moved.status_code == 200 and "chosen device" in moved.text
    assert player.active_device is not None and player.active_device.id == "phone-1"
    assert player.is_playing  # the music goes on, on the phone
    assert 400 <= unknown.status_code < 600 and unknown.status_code != 500
    assert "feedback-error" in unknown.text
    assert player.active_device.id == "phone-1"


async def test_pause_and_resume_drive_the_spotify_player(
    spotify_app: Any, world: SpotifyWorld
) -> None:
    c = spotify_app.state.deps
    user, session_id = await _spotify_session(c)
    player = world.spotify.player("fake-spotify-streamerone")
    world.clock.advance(5)

    async with browser(c, spotify_app, user.id) as web:
        await _act(web, session_id, "pause")
        paused_at = (player.is_playing, player.progress_ms)
        world.clock.advance(30)
        still = player.progress_ms
        await _act(web, session_id, "resume")
        world.clock.advance(1)

    assert paused_at[0] is False and paused_at[1] == still == 5000
    assert player.is_playing and player.progress_ms == 6000


async def test_spotify_errors_on_the_player_are_messages(
    spotify_app: Any, world: SpotifyWorld
) -> None:
    c = spotify_app.state.deps
    user, session_id = await _spotify_session(c)
    world.spotify.fail_next("PUT /me/player/pause", 403, "PREMIUM_REQUIRED")
    world.spotify.fail_next("GET /me/player/devices", 404, "NO_ACTIVE_DEVICE")

    async with browser(c, spotify_app, user.id) as web:
        refused = await _act(web, session_id, "pause")
        picker = await web.get(f"/sessions/{session_id}/devices")

    assert refused.status_code == 502
    assert PREMIUM_MESSAGE in refused.text
    assert picker.status_code != 500 and picker.status_code >= 400
    assert "Open Spotify on a device first" in picker.text
    assert 'id="device-picker"' in picker.text  # the picker stays, with its refresh button
    assert world.spotify.player("fake-spotify-streamerone").is_playing
