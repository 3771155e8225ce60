"""The Twitch side of the integration tests: the app over ASGI (``app_client``), a container on
the built-in fakes (``fake_container``, ``fake_client``), signed EventSub deliveries, a running
session, and serving the app with uvicorn. A plugin of the root conftest.

Tests that stand for Twitch's traffic run with ``twitch_settings``: a bot account is set, so
its chat lines are told apart from the viewers'."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from premiere_ecoute.accounts.commands import RegisterUser
from premiere_ecoute.apis.spotify.fake.catalogue import Catalogue
from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp
from premiere_ecoute.bootstrap import build, web_app
from premiere_ecoute.config import Settings
from premiere_ecoute.core.broker import InMemoryBroker
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.repository import get_session
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings

STREAMER_TWITCH_ID = "123456789"
BOT_TWITCH_ID = "555000111"


def make_app(c: Any) -> FastAPI:
    return web_app(c, run_background=False)


def twitch_settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url, bot_login="premiere_bot")


@pytest.fixture
async def app_client(container: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the test container, over ASGI."""
    transport = httpx.ASGITransport(app=make_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def chat_event(text: str, chatter_id: str, broadcaster_id: str = STREAMER_TWITCH_ID) -> dict:
    return envelope.chat_message_event(
        broadcaster_id, "streamer", chatter_id, f"u{chatter_id}", text, str(uuid.uuid4())
    )


def subscription(
    type_: str,
    sub_id: str = "sub-1",
    broadcaster_id: str = STREAMER_TWITCH_ID,
    status: str = "enabled",
) -> dict:
    condition = {"broadcaster_user_id": broadcaster_id}
    if type_ == "channel.chat.message":
        condition["user_id"] = broadcaster_id
    return envelope.subscription_dict(
        sub_id,
        type_,
        "1",
        condition,
        envelope.webhook_transport("http://testserver/webhooks/twitch"),
        status,
        "2026-11-23T19:00:00Z",
    )


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    message_id: str


def signed(
    body: bytes,
    *,
    at: Any,
    message_type: str = "notification",
    subscription_type: str = "channel.chat.message",
    message_id: str | None = None,
    secret: str = TEST_WEBHOOK_SECRET,
    nanos: int | None = 123,
) -> Delivery:
    mid = message_id or str(uuid.uuid4())
    timestamp = format_twitch_timestamp(at, nanos=nanos)
    headers = envelope.webhook_headers(
        secret, mid, timestamp, message_type, subscription_type, "1", body
    )
    return Delivery(headers, body, mid)


def chat_delivery(text: str, chatter_id: str, *, at: Any, **kw: Any) -> Delivery:
    sub = subscription("channel.chat.message")
    broadcaster = kw.pop("broadcaster_id", STREAMER_TWITCH_ID)
    return signed(
        envelope.notification_body(sub, chat_event(text, chatter_id, broadcaster)), at=at, **kw
    )


async def post(client: httpx.AsyncClient, d: Delivery) -> httpx.Response:
    return await client.post("/webhooks/twitch", content=d.body, headers=d.headers)


async def register(c: Any, login: str, twitch_id: str, role: str = "streamer") -> int:
    user = await c.bus.execute(RegisterUser(login=login, role=role, twitch_user_id=twitch_id))
    return int(user.id)


async def start_session(
    c: Any, user_id: int, *, vote_mode: str = "chat", scale: str = "0-10", stream_delay_s: int = 0
) -> int:
    row = await c.bus.execute(
        cmd.PrepareSession(
            user_id=user_id,
            album="4aawyAB9vmqN3uQ7FjRGTy",
            scale=scale,
            vote_mode=vote_mode,
            stream_delay_s=stream_delay_s,
            playback="manual",
        )
    )
    await c.bus.execute(cmd.StartSession(session_id=row.id, actor_id=user_id))
    return int(row.id)


async def report(c: Any, session_id: int) -> dict[str, Any]:
    async with c.db.session() as s:
        return await queries.report(s, session_id)


async def session_row(c: Any, session_id: int) -> Any:
    async with c.db.session() as s:
        return await get_session(s, session_id)


@pytest.fixture
async def fake_container(settings: Any) -> AsyncIterator[Any]:
    """A container on the built-in fake Twitch and Spotify (real clients, real clock)."""
    c = build(settings, database_url=settings.database_url, broker=InMemoryBroker(), pool_size=5)
    await c.start()
    try:
        yield c
    finally:
        await c.stop()


@pytest.fixture
async def fake_client(fake_container: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app over ASGI; the fake Twitch delivers its webhooks through the same client."""
    transport = httpx.ASGITransport(app=make_app(fake_container))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        fake_container.fakes.twitch.use_delivery_http(http)
        yield http


def fake_album_id() -> str:
    return next(iter(Catalogue.load().albums))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(app: FastAPI, port: int, *, lifespan: str = "off") -> AsyncIterator[None]:
    """Serve ``app`` with uvicorn on 127.0.0.1:``port`` inside the test's event loop."""
    import asyncio

    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan=lifespan,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def wait_for(predicate: Any, timeout: float = 10.0, step: float = 0.02) -> None:
    import asyncio
    import inspect

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)
