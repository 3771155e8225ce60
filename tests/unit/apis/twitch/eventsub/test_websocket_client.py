"""The WebSocket client against a small EventSub server run inside the test."""

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import websockets
from websockets.asyncio.server import ServerConnection, serve
from websockets.protocol import State

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.messages import ParsedMessage
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp
from premiere_ecoute.apis.twitch.eventsub.websocket import EventSubWebSocketClient
from premiere_ecoute.sessions.inbound import ChatLine, SubscriptionRevoked

Handler = Callable[[ServerConnection, "Server"], Awaitable[None]]
_ids = itertools.count(1)


def _now() -> str:
    return format_twitch_timestamp(datetime.now(UTC), nanos=42)


def welcome(session_id: str, keepalive: int = 10) -> str:
    payload = envelope.session_payload(session_id, "connected", _now(), keepalive)
    return envelope.ws_frame("session_welcome", payload, f"w-{next(_ids)}", _now())


def keepalive() -> str:
    return envelope.ws_frame("session_keepalive", {}, f"k-{next(_ids)}", _now())


def reconnect(url: str) -> str:
    payload = envelope.session_payload("old", "reconnecting", _now(), None, url)
    return envelope.ws_frame("session_reconnect", payload, f"r-{next(_ids)}", _now())


def chat(message_id: str, text: str) -> str:
    subscription = envelope.subscription_dict(
        "sub-chat",
        "channel.chat.message",
        "1",
        {"broadcaster_user_id": "111111111"},
        envelope.websocket_transport("s1"),
        "enabled",
        _now(),
    )
    event = envelope.chat_message_event(
        "111111111", "host", "222222222", "fan", text, f"chat-{message_id}"
    )
    payload = envelope.notification_payload(subscription, event)
    return envelope.ws_frame(
        "notification", payload, message_id, _now(), "channel.chat.message", "1"
    )


def revocation(message_id: str) -> str:
    subscription = envelope.subscription_dict(
        "sub-chat",
        "channel.chat.message",
        "1",
        {"broadcaster_user_id": "111111111"},
        envelope.websocket_transport("s1"),
        "authorization_revoked",
        _now(),
    )
    return envelope.ws_frame(
        "revocation",
        envelope.revocation_payload(subscription),
        message_id,
        _now(),
        "channel.chat.message",
        "1",
    )


@dataclass
class Server:
    handlers: dict[str, Handler]
    url: str = ""
    connections: list[str] = field(default_factory=list)
    events: dict[str, asyncio.Event] = field(default_factory=dict)

    def event(self, name: str) -> asyncio.Event:
        return self.events.setdefault(name, asyncio.Event())

    async def _route(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        path = connection.request.path
        self.connections.append(path)
        await self.handlers[path](connection, self)


@dataclass
class Recorder:
    welcomes: list[str] = field(default_factory=list)
    messages: list[tuple[ParsedMessage, str]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_welcome(self, session_id: str) -> None:
        self.welcomes.append(session_id)
        self.changed.set()

    async def on_message(self, message_id: str, parsed: ParsedMessage) -> None:
        self.messages.append((parsed, message_id))
        self.changed.set()

    async def until(self, condition: Callable[[], bool], within_s: float = 5.0) -> None:
        async with asyncio.timeout(within_s):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def start() -> AsyncIterator[Callable[[dict[str, Handler]], Awaitable[Server]]]:
    servers: list[Any] = []

    async def _start(handlers: dict[str, Handler]) -> Server:
        server = Server(handlers)
        ws_server = await serve(server._route, "127.0.0.1", 0)
        servers.append(ws_server)
        port = next(iter(ws_server.sockets)).getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}"
        return server

    yield _start
    for ws_server in servers:
        ws_server.close()
        await ws_server.wait_closed()


def _client(url: str, recorder: Recorder, **options: Any) -> EventSubWebSocketClient:
    defaults: dict[str, Any] = {
        "keepalive_margin_s": 0.2,
        "backoff_initial_s": 0.01,
        "jitter": lambda: 1.0,
    }
    return EventSubWebSocketClient(
        url,
        on_message=recorder.on_message,
        on_welcome=recorder.on_welcome,
        **(defaults | options),
    )


async def _running(client: EventSubWebSocketClient) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    return stop, asyncio.create_task(client.run(stop))


async def _stop(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    async with asyncio.timeout(2):
        await task


async def test_welcome_then_notifications_and_revocation_are_delivered(start: Any) -> None:
    async def main(ws: ServerConnection, server: Server) -> None:
        await ws.send(welcome("session-a"))
        await ws.send(keepalive())
        await ws.send(chat("n-1", "!vote 7"))
        await ws.send("not json at all")
        await ws.send(revocation("n-2"))
        await ws.wait_closed()

    server = await start({"/ws": main})
    recorder = Recorder()
    stop, task = await _running(_client(server.url + "/ws", recorder))

    await recorder.until(lambda: len(recorder.messages) == 2)
    await _stop(stop, task)

    assert recorder.welcomes == ["session-a"]
    (chat_message, first_id), (revoked, second_id) = recorder.messages
    assert isinstance(chat_message, ChatLine)
    assert chat_message.sent_at.tzinfo is not None
    assert (chat_message.text, chat_message.broadcaster_id) == ("!vote 7", "111111111")
    assert first_id == "n-1"
    assert revoked == SubscriptionRevoked(
        "sub-chat", "channel.chat.message", "authorization_revoked", "111111111"
    )
    assert second_id == "n-2"


async def test_silence_past_keepalive_reconnects_to_the_original_url(start: Any) -> None:
    sessions = iter(["session-a", "session-b"])

    async def main(ws: ServerConnection, server: Server) -> None:
        await ws.send(welcome(next(sessions), keepalive=1))
        await ws.wait_closed()  # then say nothing at all

    server = await start({"/ws": main})
    recorder = Recorder()
    stop, task = await _running(_client(server.url + "/ws", recorder))

    await recorder.until(lambda: len(recorder.welcomes) == 2)
    await _stop(stop, task)

    assert recorder.welcomes == ["session-a", "session-b"]
    assert server.connections == ["/ws", "/ws"]


async def test_keepalives_keep_a_quiet_connection_open(start: Any) -> None:
    async def main(ws: ServerConnection, server: Server) -> None:
        await ws.send(welcome("session-a", keepalive=1))
        for _ in range(4):
            await asyncio.sleep(0.5)
            await ws.send(keepalive())
        await ws.send(chat("n-1", "8"))
        await ws.wait_closed()

    server = await start({"/ws": main})
    recorder = Recorder()
    stop, task = await _running(_client(server.url + "/ws", recorder))

    await recorder.until(lambda: len(recorder.messages) == 1)
    await _stop(stop, task)

    assert server.connections == ["/ws"]
    assert recorder.welcomes == ["session-a"]


async def test_reconnect_handover_loses_nothing_and_delivers_duplicates_once(start: Any) -> None:
    old_link: list[ServerConnection] = []
    old_state_at_new_welcome: list[State] = []

    async def old(ws: ServerConnection, server: Server) -> None:
        old_link.append(ws)
        await ws.send(welcome("session-a"))
        await ws.send(chat("n-1", "5"))
        await ws.send(reconnect(server.url + "/new"))
        await ws.send(chat("n-2", "6"))  # sent while the client hands over
        await server.event("new_connected").wait()
        await ws.send(chat("n-3", "7"))  # the new link exists but is not welcomed yet
        await ws.wait_closed()
        server.event("old_closed").set()

    async def new(ws: ServerConnection, server: Server) -> None:
        server.event("new_connected").set()
        await asyncio.sleep(0.2)  # a slow welcome: the old link must stay open meanwhile
        old_state_at_new_welcome.append(old_link[0].state)
        await ws.send(welcome("session-a-moved"))
        await ws.send(chat("n-3", "7"))  # Twitch may deliver it again on the new link
        await ws.send(chat("n-4", "8"))
        await ws.wait_closed()

    server = await start({"/ws": old, "/new": new})
    recorder = Recorder()
    stop, task = await _running(_client(server.url + "/ws", recorder))

    await recorder.until(lambda: len(recorder.messages) == 4)
    async with asyncio.timeout(3):
        await server.event("old_closed").wait()
    await _stop(stop, task)

    assert [message_id for _, message_id in recorder.messages] == ["n-1", "n-2", "n-3", "n-4"]
    assert recorder.welcomes == ["session-a"]
    assert old_state_at_new_welcome == [State.OPEN]
    assert server.connections == ["/ws", "/new"]


async def test_connection_failures_are_retried_until_one_succeeds(start: Any) -> None:
    async def main(ws: ServerConnection, server: Server) -> None:
        await ws.send(welcome("session-a"))
        await ws.wait_closed()

    server = await start({"/ws": main})
    attempts: list[str] = []

    async def flaky_connect(url: str) -> Any:
        attempts.append(url)
        if len(attempts) < 3:
            raise ConnectionRefusedError("nobody home")
        return await websockets.connect(url)

    recorder = Recorder()
    stop, task = await _running(_client(server.url + "/ws", recorder, connect=flaky_connect))

    await recorder.until(lambda: recorder.welcomes == ["session-a"])
    await _stop(stop, task)

    assert len(attempts) == 3


async def test_stop_ends_run_promptly_while_connected(start: Any) -> None:
    async def main(ws: ServerConnection, server: Server) -> None:
        await ws.send(welcome("session-a", keepalive=600))
        await ws.wait_closed()

    server = await start({"/ws": main})
    recorder = Recorder()
    stop, task = await _running(_client(server.url + "/ws", recorder))
    await recorder.until(lambda: len(recorder.welcomes) == 1)

    started = asyncio.get_running_loop().time()
    await _stop(stop, task)

    assert asyncio.get_running_loop().time() - started < 1.0


async def test_stop_ends_run_promptly_while_backing_off() -> None:
    async def refused(url: str) -> Any:
        raise ConnectionRefusedError("nobody home")

    recorder = Recorder()
    client = _client("ws://unused", recorder, connect=refused, backoff_initial_s=30.0)
    stop, task = await _running(client)
    await asyncio.sleep(0.05)

    await _stop(stop, task)

    assert recorder.welcomes == []


async def test_a_frame_holding_nul_characters_is_delivered_storable(start: Any) -> None:
    # PostgreSQL's JSONB cannot store U+0000: frames are decoded as webhook bodies are.
    async def main(ws: ServerConnection, server: Server) -> None:
        await ws.send(welcome("session-a"))
        await ws.send(chat("n-1", "!vote\u0000 7"))
        await ws.wait_closed()

    server = await start({"/ws": main})
    recorder = Recorder()
    stop, task = await _running(_client(server.url + "/ws", recorder))

    await recorder.until(lambda: len(recorder.messages) == 1)
    await _stop(stop, task)

    ((message, message_id),) = recorder.messages
    assert isinstance(message, ChatLine) and message.text == "!vote 7"
    assert message_id == "n-1"
