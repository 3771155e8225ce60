"""The real app served by uvicorn, a crowd of viewers voting through signed webhooks or the fake
Twitch's WebSocket chat delivery: the report's first track matches what the crowd said."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from premiere_ecoute.apis.twitch.simulator import CrowdConfig, run_crowd
from premiere_ecoute.bootstrap import build, start_ingest, web_app
from premiere_ecoute.core.inbox import InboxRow
from premiere_ecoute.demo import create_token, create_user
from tests.conftest import make_settings
from tests.support.twitch_world import fake_album_id, free_port, serving, wait_for

pytestmark = pytest.mark.e2e
OPTIONS = [str(n) for n in range(11)]


@asynccontextmanager
async def running_app(clean_db: str, **overrides: Any) -> AsyncIterator[tuple[Any, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    c = build(make_settings(database_url=clean_db, base_url=base, **overrides), pool_size=5)
    app = web_app(c, run_background=True)
    async with serving(app, port, lifespan="on"):
        # A web process outside development leaves the ingest to workers: this one is both.
        start_ingest(c)
        yield c, base


async def _start_session(c: Any, http: httpx.AsyncClient) -> tuple[int, str]:
    user = await create_user(c, "streamer", "streamer")
    token = await create_token(c, user.id)
    http.headers["Authorization"] = f"Bearer {token}"
    made = await http.post(
        "/api/v1/sessions", json={"album": fake_album_id(), "playback": "manual"}
    )
    assert made.status_code == 201, made.text
    session_id = made.json()["id"]
    started = await http.post(f"/api/v1/sessions/{session_id}/start")
    assert started.status_code == 200, started.text
    return session_id, str(user.twitch_user_id)


async def _first_track_once_ingested(
    c: Any, http: httpx.AsyncClient, session_id: int, messages: int, broadcaster_id: str
) -> dict[str, Any]:
    """The report's first track once the viewers' ``messages`` are stored and processed."""

    async def all_processed() -> bool:
        # The streamer's own announcements come through the chat subscription too.
        chatter = InboxRow.payload["chatter_id"].astext
        async with c.db.session() as s:
            done = await s.scalar(
                select(func.count())
                .select_from(InboxRow)
                .where(InboxRow.processed_at.is_not(None), chatter != broadcaster_id)
            )
            pending = await c.inbox.pending_count(s)
        return bool(done == messages and pending == 0)

    await wait_for(all_processed, timeout=30, step=0.05)
    report = (await http.get(f"/api/v1/sessions/{session_id}/report")).json()
    return dict(report["tracks"][0])


async def test_a_crowd_on_the_webhook_gets_exactly_its_distribution_in_the_report(
    clean_db: str,
) -> None:
    async with running_app(clean_db) as (c, base), httpx.AsyncClient(base_url=base) as http:
        session_id, broadcaster_id = await _start_session(c, http)
        crowd = await run_crowd(
            CrowdConfig(
                url=f"{base}/webhooks/twitch",
                secret=c.settings.twitch_webhook_secret,
                broadcaster_id=broadcaster_id,
                broadcaster_login="streamer",
                viewers=150,
                rate=200,
                duration_s=1.5,
                distribution="normal:6:2",
                seed=11,
                concurrency=20,
            )
        )
        # A starved machine may skip the tail (the crowd keeps its pace, it does not queue).
        assert crowd.sent + crowd.skipped == 300 and crowd.sent >= 100
        assert crowd.acknowledged == crowd.sent and crowd.errors == 0

        track = await _first_track_once_ingested(
            c, http, session_id, crowd.acknowledged, broadcaster_id
        )

    assert track["distribution"] == crowd.expected_distribution()
    assert track["voters"] == len(crowd.latest_votes)


async def test_a_crowd_over_the_eventsub_websocket_gets_exactly_its_distribution(
    clean_db: str,
) -> None:
    async with (
        running_app(clean_db, twitch_eventsub_transport="websocket") as (c, base),
        httpx.AsyncClient(base_url=base) as http,
    ):
        await wait_for(lambda: c.eventsub_ws.session_id)
        session_id, broadcaster_id = await _start_session(c, http)
        rng = random.Random(5)
        viewers = [f"viewer_ws{i}" for i in range(80)]
        plan = {v: [rng.choice(OPTIONS) for _ in range(rng.choice((1, 1, 2, 3)))] for v in viewers}
        gate = asyncio.Semaphore(16)

        async def speak(viewer: str, texts: list[str]) -> None:
            for text in texts:  # one viewer's messages in order, like a person typing
                async with gate:
                    r = await http.post(
                        "/_fake/twitch/chat/streamer/send",
                        data={"text": rng.choice(("", "!vote ")) + text, "as": viewer},
                    )
                assert r.json()["delivered"] == 1

        await asyncio.gather(*(speak(v, texts) for v, texts in plan.items()))
        expected = dict.fromkeys(OPTIONS, 0)
        for texts in plan.values():
            expected[texts[-1]] += 1
        sent = sum(len(t) for t in plan.values())

        track = await _first_track_once_ingested(c, http, session_id, sent, broadcaster_id)

    assert sent >= 120
    assert track["distribution"] == expected
    assert track["voters"] == len(viewers)
