"""Live updates: each commit that changes a session announces it once, and every web
process's hub refreshes the streams of that session and of its streamer: a cached snapshot
on connect, small deltas shared by every stream, presence without snapshots, a snapshot for
a client that lags, and a farewell with a retry hint at shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from premiere_ecoute.core.broker import InMemoryBroker
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.events import SessionChanged
from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.web.live import CLIENT_QUEUE, LiveHub
from tests.support.sessions import Cast, prepare


def _parse(frame: bytes) -> tuple[str, dict[str, Any], str | None]:
    fields = dict(line.split(": ", 1) for line in frame.decode().split("\r\n") if ": " in line)
    return fields["event"], json.loads(fields["data"]), fields.get("retry")


async def _next(stream: AsyncIterator[bytes]) -> tuple[str, dict[str, Any], str | None]:
    return _parse(await asyncio.wait_for(stream.__anext__(), 5))


def _hub(container: Any, load: Any, **options: Any) -> LiveHub:
    return LiveHub(container.broker, load, container.metrics, coalesce_s=0.01, **options)


async def test_a_command_with_several_events_is_announced_once(container: Any, cast: Cast) -> None:
    session_id = await prepare(container, cast.streamer)
    live = container.broker.subscribe(LIVE_TOPIC)
    # Start records SessionStarted, TrackChanged and VotesOpened in one commit.
    await container.bus.execute(cmd.StartSession(session_id=session_id, actor_id=cast.streamer.id))
    first = await live.get(timeout=5)
    assert first == {"session_id": session_id, "user_id": cast.streamer.id, "lifecycle": True}
    await asyncio.sleep(0.1)
    assert live.queue.empty()
    live.close()


async def test_nothing_is_announced_for_a_unit_of_work_that_rolls_back(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer)
    live = container.broker.subscribe(LIVE_TOPIC)
    async with container.bus.unit_of_work(actor="test") as uow:
        uow.record(SessionChanged(session_id=session_id))
    await asyncio.sleep(0.1)
    assert live.queue.empty()
    live.close()


async def test_a_commit_sends_only_what_changed_to_the_session_and_its_streamer(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer)
    owner = cast.streamer.id
    views = {"votes": 1}
    loads: list[str] = []

    async def load(topic: str) -> dict[str, Any]:
        loads.append(topic)
        return {"session": {"user_id": owner, "votes": views["votes"]}, "album": {"name": "A"}}

    hub = _hub(container, load)
    overlays = [hub.events(f"streamer:{owner}", "overlay") for _ in range(3)]
    for overlay in overlays:
        kind, data, _ = await _next(overlay)
        assert kind == "snapshot" and data["album"] == {"name": "A"}
    # One read of the streamer's view served the three overlays.
    assert loads.count(f"streamer:{owner}") == 1
    control = hub.events(f"session:{session_id}", "control")
    kind, data, _ = await _next(control)
    assert kind == "snapshot" and data["overlays"] == 3

    views["votes"] = 2
    async with container.bus.unit_of_work(actor="test") as uow:
        uow.record(SessionChanged(session_id=session_id))
        await uow.commit()
    for stream in (control, *overlays):
        kind, data, _ = await _next(stream)
        assert kind == "update" and data == {"session": {"user_id": owner, "votes": 2}}
    for stream in (control, *overlays):
        await stream.aclose()
    await hub.close()


async def test_overlays_arriving_update_the_control_page_count_and_no_one_else(
    container: Any, cast: Cast
) -> None:
    owner = cast.streamer.id
    loads: list[str] = []

    async def load(topic: str) -> dict[str, Any]:
        loads.append(topic)
        return {"session": {"user_id": owner}}

    hub = _hub(container, load)
    control = hub.events("session:1", "control")
    public = hub.events(f"streamer:{owner}", "live")
    assert (await _next(control))[1]["overlays"] == 0
    await _next(public)
    overlay = hub.events(f"streamer:{owner}", "overlay")
    await _next(overlay)
    assert await _next(control) == ("update", {"overlays": 1}, None)
    await overlay.aclose()
    assert await _next(control) == ("update", {"overlays": 0}, None)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(public.__anext__(), 0.3)  # the audience hears nothing of it
    assert len(loads) == 2  # presence never reads the view again
    await control.aclose()
    await public.aclose()
    await hub.close()


async def test_a_client_that_lags_gets_a_snapshot_instead_of_the_updates_it_missed(
    container: Any,
) -> None:
    count = {"n": 0}

    async def load(topic: str) -> dict[str, Any]:
        count["n"] += 1
        return {"n": count["n"]}

    hub = _hub(container, load)
    slow = hub.events("session:3", "api")
    await _next(slow)
    for _ in range(CLIENT_QUEUE + 3):  # more updates than its queue holds, unread
        await container.broker.publish(LIVE_TOPIC, {"session_id": 3, "user_id": None})
        await asyncio.sleep(0.05)
    frames = []
    with pytest.raises(TimeoutError):
        while True:
            frames.append(_parse(await asyncio.wait_for(slow.__anext__(), 0.5)))
    # Its queue overflowed: what it missed was replaced by the whole current state.
    assert [kind for kind, _, _ in frames].count("snapshot") == 1
    assert len(frames) < CLIENT_QUEUE + 3
    assert frames[-1][1] == {"n": count["n"]}
    await slow.aclose()
    await hub.close()


async def test_at_shutdown_every_stream_ends_with_a_retry_hint(container: Any) -> None:
    async def load(topic: str) -> dict[str, Any]:
        return {}

    hub = _hub(container, load)
    streams = [hub.events(f"streamer:{n}", "overlay") for n in range(3)]
    for stream in streams:
        await _next(stream)
    hub.shutdown_event.set()
    for stream in streams:
        kind, _, retry = await _next(stream)
        assert kind == "bye" and retry == "500"
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(stream.__anext__(), 5)
    await hub.close()


async def test_a_client_that_goes_away_leaves_nothing_behind(container: Any) -> None:
    class SlowBroker(InMemoryBroker):
        async def publish(self, topic: str, data: dict[str, Any]) -> None:
            await asyncio.sleep(0.02)  # a network broker: publishing awaits
            await super().publish(topic, data)

    async def load(topic: str) -> dict[str, Any]:
        return {"n": 1}

    hub = LiveHub(SlowBroker(), load, container.metrics, coalesce_s=0.01)
    scopes: list[anyio.CancelScope] = []

    async def watch() -> None:
        # As sse-starlette does: the stream runs in a cancel scope, which cancels every
        # later await too once the client is gone.
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async for _ in hub.events("session:7", "overlay"):
                pass

    for _ in range(3):
        task = asyncio.create_task(watch())
        await asyncio.sleep(0.1)  # connected, waiting for updates
        scopes[-1].cancel()  # the browser went away
        await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.2)
    assert hub.connected("session:7") == 0
    assert "session:7" not in hub._topics
    assert hub.count("session:7", "overlay") == 0
    await hub.close()
