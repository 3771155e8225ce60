"""The audience's plain streams (``LiveHub.serve``): the flusher writes each update to every
connection itself, a connection that makes it wait holds back no one else and gets the current
state once it catches up, and the stream ends cleanly on shutdown and when the viewer leaves."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.web import live
from premiere_ecoute.web.live import CLIENT_QUEUE, LiveHub
from tests.support.spotify_world import wait_until


def _frames(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in body.decode().split("\r\n\r\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\r\n") if ": " in line)
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


@dataclass
class Viewer:
    """One connection as the server sees it: ``send`` waits while ``writable`` is clear, like
    a transport whose write buffer is full."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)
    writable: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.writable.set()

    async def send(self, message: dict[str, Any]) -> None:
        if not self.writable.is_set():
            await self.writable.wait()
        task = asyncio.current_task()
        self.writers.append(task.get_name() if task else "")
        self.messages.append(message)

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    def frames(self) -> list[tuple[str, dict[str, Any]]]:
        body = b"".join(m.get("body", b"") for m in self.messages[1:])
        return _frames(body)

    def ended(self) -> bool:
        return bool(self.messages) and self.messages[-1].get("more_body") is False


async def _until(check: Any, what: str) -> None:
    async def holds() -> bool:
        return bool(check())

    await wait_until(holds, what=what)


async def _counting_hub(container: Any) -> tuple[LiveHub, dict[str, int]]:
    count = {"n": 0}

    async def load(topic: str) -> dict[str, Any]:
        count["n"] += 1
        return {"n": count["n"]}

    return LiveHub(container.broker, load, container.metrics, coalesce_s=0.01), count


async def _change(container: Any, user_id: int) -> None:
    await container.broker.publish(LIVE_TOPIC, {"session_id": None, "user_id": user_id})


async def test_the_flusher_writes_each_update_to_every_connection_itself(
    container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "PUSH_SLICE", 2)  # three viewers: the update goes in two slices
    hub, _ = await _counting_hub(container)
    viewers = [Viewer() for _ in range(3)]
    tasks = [
        asyncio.create_task(hub.serve("streamer:5", "overlay", v.receive, v.send)) for v in viewers
    ]
    await _until(lambda: all(len(v.frames()) == 1 for v in viewers), "the snapshots")
    assert viewers[0].messages[0]["status"] == 200

    await _change(container, 5)
    await _until(lambda: all(len(v.frames()) == 2 for v in viewers), "the update")

    for v in viewers:
        assert v.frames() == [("snapshot", {"n": 1}), ("update", {"n": 2})]
        # Written by the topic's flusher: no task per viewer was woken for it.
        assert v.writers[-1] == "live:streamer:5"
    hub.shutdown_event.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    for v in viewers:
        assert v.frames()[-1][0] == "bye" and v.ended()
    await hub.close()


async def test_a_connection_that_makes_the_writer_wait_holds_back_no_one(container: Any) -> None:
    hub, count = await _counting_hub(container)
    slow, quick = Viewer(), Viewer()
    tasks = [
        asyncio.create_task(hub.serve("streamer:6", "live", v.receive, v.send))
        for v in (slow, quick)
    ]
    await _until(lambda: len(slow.frames()) == len(quick.frames()) == 1, "the snapshots")

    slow.writable.clear()  # its write buffer is full from now on
    updates = CLIENT_QUEUE + 4
    for _ in range(updates):
        await _change(container, 6)
        await asyncio.sleep(0.03)
    await _until(lambda: quick.frames()[-1] == ("update", {"n": count["n"]}), "the quick one")
    assert len(quick.frames()) > 1 + CLIENT_QUEUE  # more updates than the slow one may hold
    assert len(slow.frames()) == 1  # nothing got through to the slow one meanwhile

    slow.writable.set()
    await _until(lambda: slow.frames()[-1][1] == {"n": count["n"]}, "the slow one to catch up")
    kinds = [kind for kind, _ in slow.frames()]
    # The write under way finished, then what it missed came as one fresh snapshot (and the
    # updates after that snapshot).
    assert kinds.count("snapshot") == 2
    assert len(kinds) < len(quick.frames())
    values = [data["n"] for _, data in slow.frames()]
    assert values == sorted(values)  # in order: never an older state after a newer one

    caught_up = count["n"]
    await _change(container, 6)  # caught up: writes are direct again
    await _until(lambda: slow.frames()[-1] == ("update", {"n": caught_up + 1}), "the next one")
    assert slow.writers[-1] == "live:streamer:6", (slow.writers, slow.frames())

    for v in (slow, quick):
        v.gone.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    await hub.close()


async def test_a_viewer_who_leaves_while_a_write_waits_leaves_nothing_behind(
    container: Any,
) -> None:
    hub, _ = await _counting_hub(container)
    viewer = Viewer()
    task = asyncio.create_task(hub.serve("streamer:7", "overlay", viewer.receive, viewer.send))
    await _until(lambda: len(viewer.frames()) == 1, "the snapshot")
    viewer.writable.clear()
    await _change(container, 7)
    await asyncio.sleep(0.1)  # the update's write is waiting on the connection

    viewer.gone.set()
    await asyncio.wait_for(task, 5)
    assert hub.connected("streamer:7") == 0
    assert "streamer:7" not in hub._topics
    await _until(lambda: hub.count("streamer:7", "overlay") == 0, "presence to drop")
    pending = [t for t in asyncio.all_tasks() if "_finish" in repr(t.get_coro())]
    assert pending == []
    await hub.close()
