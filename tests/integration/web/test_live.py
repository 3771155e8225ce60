"""Live updates: each commit that changes a session announces it once, and every web
process's hub refreshes the streams of that session and of its streamer."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio

from premiere_ecoute.core.broker import InMemoryBroker
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.events import SessionChanged
from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.web.live import LiveHub
from tests.support.sessions import Cast, prepare


def _hub(container: Any, load: Any) -> LiveHub:
    return LiveHub(container.broker, load, container.metrics, container.stopping, coalesce_s=0.01)


async def test_a_command_with_several_events_is_announced_once(container: Any, cast: Cast) -> None:
    session_id = await prepare(container, cast.streamer)
    live = container.broker.subscribe(LIVE_TOPIC)
    # Start records SessionStarted, TrackChanged and VotesOpened in one commit.
    await container.bus.execute(cmd.StartSession(session_id=session_id, actor_id=cast.streamer.id))
    first = await live.get(timeout=5)
    assert first == {"session_id": session_id, "user_id": cast.streamer.id}
    await asyncio.sleep(0.1)
    assert live.queue.empty()
    live.close()


async def test_a_commit_reaches_the_streams_of_the_session_and_of_its_streamer(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer)
    loads: list[str] = []

    async def load(topic: str) -> dict[str, Any]:
        loads.append(topic)
        return {"topic": topic, "session": {"user_id": cast.streamer.id}}

    hub = _hub(container, load)
    control = hub.events(f"session:{session_id}", "control")
    overlay = hub.events(f"streamer:{cast.streamer.id}", "overlay")
    assert (await control.__anext__())["event"] == "snapshot"
    assert (await overlay.__anext__())["event"] == "snapshot"
    async with container.bus.unit_of_work(actor="test") as uow:
        uow.record(SessionChanged(session_id=session_id))
        await uow.commit()
    assert (await asyncio.wait_for(control.__anext__(), 5))["event"] == "update"
    assert (await asyncio.wait_for(overlay.__anext__(), 5))["event"] == "update"
    await control.aclose()
    await overlay.aclose()
    await hub.close()


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


async def test_a_client_that_goes_away_leaves_nothing_behind(container: Any) -> None:
    class SlowBroker(InMemoryBroker):
        async def publish(self, topic: str, data: dict[str, Any]) -> None:
            await asyncio.sleep(0.02)  # a network broker: publishing awaits
            await super().publish(topic, data)

    async def load(topic: str) -> dict[str, Any]:
        return {"n": 1}

    hub = LiveHub(SlowBroker(), load, container.metrics, container.stopping, coalesce_s=0.01)
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
