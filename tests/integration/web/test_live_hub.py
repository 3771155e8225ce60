"""Live updates carry the player's reading to processes that do not run the monitor."""

from __future__ import annotations

import asyncio
from typing import Any

from premiere_ecoute.web.live import LiveHub, publish_session


async def test_session_updates_carry_the_player_status_to_other_processes(container: Any) -> None:
    snapshots: list[dict[str, Any]] = []

    async def load(topic: str) -> dict[str, Any]:
        snap = {"player": container.services.get("player_status", {}).get(5)}
        snapshots.append(snap)
        return snap

    hub = LiveHub(container, load, coalesce_s=0.01)
    stream = hub.events("session:5", "control")
    first = await stream.__anext__()
    assert first["event"] == "snapshot"
    # Another process (its monitor's reading is in the message, not in our memory):
    reading = {"session_id": 5, "is_playing": True, "progress_ms": 61_000}
    await container.broker.publish("session:5", {"session_id": 5, "player": reading})
    update = await asyncio.wait_for(stream.__anext__(), 5)
    assert update["event"] == "update" and '"progress_ms": 61000' in update["data"]
    await stream.aclose()
    await hub.close()


async def test_publish_includes_the_local_player_reading(container: Any) -> None:
    sub = container.broker.subscribe("session:9")
    container.services.setdefault("player_status", {})[9] = {"is_playing": False}
    await publish_session(container, 9, None)
    assert await sub.get(timeout=5) == {"session_id": 9, "player": {"is_playing": False}}
    sub.close()


async def test_a_client_that_goes_away_leaves_nothing_behind(container: Any) -> None:
    from premiere_ecoute.core.broker import InMemoryBroker

    class SlowBroker(InMemoryBroker):
        async def publish(self, topic: str, data: dict[str, Any]) -> None:
            await asyncio.sleep(0.02)  # a network broker: publishing awaits
            await super().publish(topic, data)

    container.broker = SlowBroker()

    async def load(topic: str) -> dict[str, Any]:
        return {"n": 1}

    hub = LiveHub(container, load, coalesce_s=0.01)

    import anyio

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
    assert "session:7" not in hub._followers
    assert hub.count("session:7", "overlay") == 0
    await hub.close()
