"""The final scene (issue 11 item 5): after a stop, the streamer's live view (overlay, public
page) shows the album's result for the session's ``final_scene_s``, then goes idle; the hub
reads the view again when the scene ends, so every stream goes idle without a commit."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.queries import live_view
from premiere_ecoute.web.live import LiveHub
from tests.support.sessions import Cast, apply, at, ballot, move, prepare, start, stop


async def _streamer_view(c: Any, user_id: int) -> dict[str, Any]:
    async with c.db.session() as s:
        return await live_view(s, streamer_id=user_id, now=c.clock.now(), compact=True)


async def _rated_and_stopped(c: Any, cast: Cast, **options: Any) -> int:
    session_id = await prepare(c, cast.streamer, **options)
    await start(c, cast.streamer, session_id)
    await apply(c, session_id, [ballot("v1", "9", at(c, 1)), ballot("v2", "8", at(c, 1))])
    c.clock.advance(30)
    await move(c, cast.streamer, session_id, "next")
    c.clock.advance(1)
    await apply(c, session_id, [ballot("v1", "3", at(c, 32))])
    c.clock.advance(30)
    await stop(c, cast.streamer, session_id)
    return session_id


async def test_after_stop_the_streamer_view_shows_the_final_scene_then_idles(
    container: Any, cast: Cast
) -> None:
    session_id = await _rated_and_stopped(container, cast, final_scene_s=45)

    during = await _streamer_view(container, cast.streamer.id)
    container.clock.advance(44)
    late = await _streamer_view(container, cast.streamer.id)
    container.clock.advance(2)
    after = await _streamer_view(container, cast.streamer.id)

    final = during["final"]
    assert during["active"] is False
    assert final["session_id"] == session_id
    assert isinstance(final["viewer_score"], float)
    assert final["votes"] == 3 and final["voters"] == 2
    assert final["top"]["viewer_score"] == 8.5 and final["top"]["track_number"] == 1
    assert final["bottom"]["viewer_score"] == 3 and final["bottom"]["track_number"] == 2
    assert final["album"]["name"] and "cover_url" in final["album"]
    assert final["report_url"] == f"/sessions/{session_id}/report"
    assert final["ends_in_s"] == 45
    assert 0 < late["final"]["ends_in_s"] <= 1
    assert "final" not in after
    assert set(during) - {"final"} == set(after)  # the compact view only gains the scene


async def test_a_zero_final_scene_goes_idle_at_once_and_settings_bound_it(
    container: Any, cast: Cast
) -> None:
    await _rated_and_stopped(container, cast, final_scene_s=0)
    view = await _streamer_view(container, cast.streamer.id)
    session_id = await prepare(container, cast.streamer)
    changed = await container.bus.execute(
        cmd.ChangeSettings(
            session_id=session_id, actor_id=cast.streamer.id, final_scene_s=90, language="fr"
        )
    )
    refused = []
    for bad in ({"final_scene_s": -1}, {"final_scene_s": 601}, {"language": "de"}):
        try:
            cmd.ChangeSettings(session_id=session_id, actor_id=cast.streamer.id, **bad).validate()
        except Exception as exc:  # ValidationFailed
            refused.append(type(exc).__name__)

    assert "final" not in view
    assert (changed.final_scene_s, changed.language) == (90, "fr")
    assert refused == ["ValidationFailed"] * 3


async def test_an_active_session_wins_over_the_previous_final_scene(
    container: Any, cast: Cast
) -> None:
    await _rated_and_stopped(container, cast)
    again = await prepare(container, cast.streamer)
    await start(container, cast.streamer, again)

    view = await _streamer_view(container, cast.streamer.id)

    assert view["active"] is True and "final" not in view


async def test_the_hub_sends_idle_when_the_final_scene_ends(container: Any, cast: Cast) -> None:
    await _rated_and_stopped(container, cast, final_scene_s=60)
    moment = container.clock.now()
    reads: list[dt.datetime] = []

    async def load(topic: str) -> dict[str, Any]:
        # The scene ends 0.2 s (real time) after the first read.
        now = moment if not reads else moment + dt.timedelta(seconds=61)
        reads.append(now)
        async with container.db.session() as s:
            view = await live_view(s, streamer_id=cast.streamer.id, now=now, compact=True)
        if "final" in view:
            view["final"]["ends_in_s"] = 0.2
        return view

    hub = LiveHub(container.broker, load, container.metrics, coalesce_s=0.01)
    stream = hub.events(f"streamer:{cast.streamer.id}", "overlay")
    try:
        first = await asyncio.wait_for(stream.__anext__(), 5)
        second = await asyncio.wait_for(stream.__anext__(), 5)
    finally:
        await stream.aclose()
        await hub.close()

    snapshot = json.loads(first.decode().split("data: ", 1)[1].split("\r\n", 1)[0])
    update = json.loads(second.decode().split("data: ", 1)[1].split("\r\n", 1)[0])
    assert snapshot["final"]["votes"] == 3
    assert update == {"final": None}
    assert len(reads) == 2
