"""EventSub over WebSocket against the fake Twitch's WebSocket (SPEC §6): welcome, subscriptions
on the session id, notifications into the inbox, revocation and a new session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from premiere_ecoute.apis.fakes import eventsub_ws_url
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from tests.support.runtime import ingest_once
from tests.support.twitch_world import (
    fake_album_id,
    free_port,
    make_app,
    report,
    serving,
    session_row,
    wait_for,
)

PORT = free_port()


@pytest.fixture
def settings(clean_db: str) -> Any:
    from tests.conftest import make_settings

    return make_settings(
        database_url=clean_db,
        twitch_eventsub_transport="websocket",
        base_url=f"http://127.0.0.1:{PORT}",
    )


@pytest.fixture
async def live(fake_container: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serving(make_app(fake_container), PORT),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}") as http,
    ):
        ws = fake_container.eventsub_ws
        fake_container.kernel.spawn(ws.run(fake_container.stopping), "eventsub.websocket")
        await wait_for(lambda: ws.session_id)
        yield http


async def _chat(http: httpx.AsyncClient, text: str, viewer: str) -> None:
    r = await http.post("/_fake/twitch/chat/streamer/send", data={"text": text, "as": viewer})
    assert r.json()["delivered"] == 1, r.text


async def _ingested(c: Any, n: int) -> None:
    seen = 0

    async def step() -> bool:
        nonlocal seen
        seen += (await ingest_once(c)).processed
        return seen >= n

    await wait_for(step)


def test_with_the_fakes_the_websocket_is_the_fakes_on_this_app(settings: Any) -> None:
    assert eventsub_ws_url(settings) == f"ws://127.0.0.1:{PORT}/_fake/twitch/ws"


async def test_chat_over_the_websocket_reaches_the_report_and_survives_revocation_and_reconnect(
    fake_container: Any, live: httpx.AsyncClient
) -> None:
    c = fake_container
    fake = c.fakes.twitch
    ws = c.eventsub_ws
    user = await create_user(c, "streamer", "streamer")
    row = await c.bus.execute(
        cmd.PrepareSession(user_id=user.id, album=fake_album_id(), playback="manual")
    )
    await c.bus.execute(cmd.StartSession(session_id=row.id, actor_id=user.id))
    (sub_id,) = (await session_row(c, row.id)).subscriptions
    assert fake.subscriptions[sub_id].session_id == ws.session_id
    assert fake.subscriptions[sub_id].status == "enabled"

    await _chat(live, "8", "viewer_alice")
    await _ingested(c, 1)
    assert (await report(c, row.id))["tracks"][0]["distribution"]["8"] == 1

    # Twitch revokes the subscription: the session gets a new one and votes keep coming.
    r = await live.post(f"/_fake/twitch/eventsub/subscriptions/{sub_id}/revoke")
    assert r.status_code == 200

    async def renewed_subscription() -> bool:
        subs = (await session_row(c, row.id)).subscriptions
        return bool(subs) and sub_id not in subs

    await _ingested(c, 1)  # the revocation; the ingest renews the subscription
    await wait_for(renewed_subscription)
    renewed = await session_row(c, row.id)
    assert sub_id not in renewed.subscriptions and len(renewed.subscriptions) == 1
    assert "renewed" in renewed.notice

    # The connection drops: a new session is welcomed and the active session resubscribed.
    old_session = ws.session_id
    fake.ws_sessions[old_session].outbox.put_nowait(None)
    await wait_for(lambda: ws.session_id != old_session)

    async def resubscribed() -> bool:
        # The welcome handler resubscribes in the background: wait for its result.
        subs = (await session_row(c, row.id)).subscriptions
        return bool(subs) and all(
            sid in fake.subscriptions and fake.subscriptions[sid].session_id == ws.session_id
            for sid in subs
        )

    await wait_for(resubscribed)
    await _chat(live, "!vote 3", "viewer_bob")
    await _chat(live, "9", "viewer_alice")
    await _ingested(c, 2)

    track = (await report(c, row.id))["tracks"][0]
    assert track["distribution"]["9"] == 1 and track["distribution"]["3"] == 1
    assert track["distribution"]["8"] == 0 and track["voters"] == 2
