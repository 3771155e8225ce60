"""The dashboard's "Live now" (SPEC §1): Twitch follows are imported at login, and the card
is told when a followed streamer starts or stops a session (SSE), then fetched again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from premiere_ecoute.accounts.models import Follow, User
from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.core.errors import ExternalServiceError
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.web.live import LiveHub
from tests.support.pages import browser
from tests.support.sessions import Cast, make_cast, prepare, prepared_and_started, stop
from tests.support.spotify_world import ALBUM


@pytest.fixture
def settings(clean_db: str) -> Any:
    from tests.conftest import make_settings

    return make_settings(database_url=clean_db, bot_login="premiere_bot")


def _event(frame: bytes) -> str:
    fields = dict(line.split(": ", 1) for line in frame.decode().split("\r\n") if ": " in line)
    assert json.loads(fields["data"]) == {}
    return fields["event"]


class Reader:
    """Reads a stream with timeouts; a read that timed out stays pending for the next one."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self.stream = stream
        self.pending: asyncio.Future[bytes] | None = None

    async def next(self, timeout: float = 5) -> str:
        if self.pending is None:
            self.pending = asyncio.ensure_future(self.stream.__anext__())
        frame = await asyncio.wait_for(asyncio.shield(self.pending), timeout)
        self.pending = None
        return _event(frame)

    async def nothing(self) -> bool:
        try:
            await self.next(0.3)
        except TimeoutError:
            return True
        return False


# Login -----------------------------------------------------------------------------------------


async def _authorize(client: httpx.AsyncClient, login: str) -> httpx.Response:
    start = await client.get("/auth/twitch/login")
    target = urlsplit(start.headers["location"])
    picked = await client.post(f"{target.path}?{target.query}", data={"login": login})
    back = urlsplit(picked.headers["location"])
    return await client.get(f"{back.path}?{back.query}")


async def _follows(c: Any, login: str) -> set[tuple[str, str]]:
    async with c.db.session() as s:
        follower = await s.scalar(select(User.id).where(User.login == login))
        rows = await s.execute(
            select(User.login, Follow.source)
            .join(Follow, Follow.streamer_id == User.id)
            .where(Follow.follower_id == follower)
        )
        return {(name, source) for name, source in rows}


async def test_login_imports_the_twitch_follows_at_once(
    fake_container: Any, fake_client: httpx.AsyncClient
) -> None:
    c = fake_container
    streamer = await create_user(c, "streamer", "streamer")
    await create_user(c, "partner_dj", "streamer")
    c.fakes.twitch.follow("viewer_alice", "streamer")
    c.fakes.twitch.follow("viewer_alice", "ghost_dj")  # not registered here
    await prepared_and_started(c, streamer, album=ALBUM, playback="manual")

    done = await _authorize(fake_client, "viewer_alice")
    home = await fake_client.get("/", headers={"Accept": "text/html"})

    assert done.status_code == 303
    assert await _follows(c, "viewer_alice") == {("streamer", "twitch")}
    card = home.text.split('id="live-now"', 1)[1].split("</section>", 1)[0]
    assert 'href="/live/streamer"' in card and 'sse-connect="/live-now/stream"' in card


async def test_login_still_succeeds_when_twitch_cannot_list_the_follows(
    fake_container: Any, fake_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = fake_container
    await create_user(c, "streamer", "streamer")
    c.fakes.twitch.follow("viewer_alice", "streamer")

    async def outage(*args: Any, **kwargs: Any) -> Any:
        raise ExternalServiceError("Twitch is unavailable", service="twitch")

    monkeypatch.setattr(c.twitch, "get_followed_channels", outage)
    done = await _authorize(fake_client, "viewer_alice")

    assert done.status_code == 303 and done.headers["location"] == "/"
    assert await _follows(c, "viewer_alice") == set()


# Announcements and the hub ---------------------------------------------------------------------


async def test_only_a_start_or_a_stop_is_announced_as_a_lifecycle_change(
    container: Any, cast: Cast
) -> None:
    sid = await prepare(container, cast.streamer)
    live = container.broker.subscribe(LIVE_TOPIC)
    await container.bus.execute(cmd.StartSession(session_id=sid, actor_id=cast.streamer.id))
    started = await live.get(timeout=5)
    await container.bus.execute(
        cmd.ChangeTrack(session_id=sid, actor_id=cast.streamer.id, direction="next")
    )
    moved = await live.get(timeout=5)
    await stop(container, cast.streamer, sid)
    stopped = await live.get(timeout=5)
    live.close()

    assert started.get("lifecycle") is True
    assert "lifecycle" not in moved
    assert stopped.get("lifecycle") is True


async def test_a_dashboard_hears_its_followed_streamers_start_and_stop_only(
    container: Any,
) -> None:
    async def load(topic: str) -> dict[str, Any]:
        return {}

    hub = LiveHub(container.broker, load, container.metrics, coalesce_s=0.01)
    dashboard = Reader(hub.follow_events({1, 2}))
    other = Reader(hub.follow_events({3}))
    assert await dashboard.next() == "live-now"  # once on connect
    assert await other.next() == "live-now"
    broker = container.broker

    await broker.publish(LIVE_TOPIC, {"session_id": 9, "user_id": 2})  # a vote, a track
    assert await dashboard.nothing()
    await broker.publish(LIVE_TOPIC, {"session_id": 9, "user_id": 2, "lifecycle": True})
    assert await dashboard.next() == "live-now"
    assert await other.nothing()
    for _ in range(5):  # a burst leaves one notice pending, not five
        await broker.publish(LIVE_TOPIC, {"session_id": 8, "user_id": 1, "lifecycle": True})
    await asyncio.sleep(0.1)
    assert await dashboard.next() == "live-now"
    assert await dashboard.nothing()
    hub.shutdown_event.set()
    assert await dashboard.next() == "bye"
    with pytest.raises(StopAsyncIteration):
        await dashboard.next()
    await hub.close()
    assert hub._followers.get(1) in (None, set())


# Routes -----------------------------------------------------------------------------------------


async def test_the_card_fragment_lists_the_followed_streamers_live_now(container: Any) -> None:
    cast = await make_cast(container)
    app = web_app(container, run_background=False)
    async with container.db.session() as s:
        s.add(Follow(follower_id=cast.viewer.id, streamer_id=cast.streamer.id, source="app"))
        await s.commit()

    async with browser(container, app, cast.viewer.id) as web:
        before = await web.get("/live-now")
        sid = await prepared_and_started(container, cast.streamer)
        during = await web.get("/live-now")
        await stop(container, cast.streamer, sid)
        after = await web.get("/live-now")
    async with browser(container, app) as anonymous:
        refused = await anonymous.get("/live-now")
        no_stream = await anonymous.get("/live-now/stream")

    assert before.status_code == 200 and "/live/" not in before.text
    assert f'href="/live/{cast.streamer.login}"' in during.text
    assert "/live/" not in after.text
    assert refused.status_code == 401 and no_stream.status_code == 401
