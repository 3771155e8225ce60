"""The show in a real browser (Chromium): a playlist never renumbers an album's report
(issue 11 item 1), the Twitch poll panel with live percentages, countdown, end now and run
again (item 3), a session that goes on when Spotify is unlinked mid-show (item 4), and a
delayed stream: votes heard before the start in the feed, the public page on the track the
audience hears, and a web vote that counts for it (item 11)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.core.errors import AccountNotConnected
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from tests.e2e.conftest import free_port
from tests.e2e.test_browser_control import (
    CHROMIUM,
    CHROMIUM_ARGS,
    text_of,
    wait_for_text,
)
from tests.support.pages import SCREENSHOTS, signed_in_cookie
from tests.support.runtime import ingest_once
from tests.support.sessions import load, make_cast, poll_update, prepared_and_started
from tests.support.twitch_world import STREAMER_TWITCH_ID, chat_delivery, register

HARBOUR = "f4PK0BzU3Y9EsiU1MOJyWm"  # "Harbour Lights at Dusk", 9 tracks
LATE_NIGHT = "AHUYoYq1CSopAU6KEP3UI7"  # shares the album's tracks 7 and 9

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@asynccontextmanager
async def serve(c: Any) -> AsyncIterator[str]:
    """The app of ``c`` on a free port, in this event loop, with real SSE streams."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        web_app(c, run_background=False),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        c.stopping.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@asynccontextmanager
async def chromium(c: Any, base: str, user_id: int) -> AsyncIterator[Any]:
    """A browser context logged in as ``user_id``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 1400})
            cookie = await signed_in_cookie(c, user_id)
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": base}])
            yield context
        finally:
            await browser.close()


async def test_a_playlist_prepared_later_leaves_the_album_report_as_it_was(sc: Any) -> None:
    from tests.support.spotify_world import streamer

    user = await streamer(sc)
    row = await sc.bus.execute(
        cmd.PrepareSession(user_id=user.id, album=HARBOUR, playback="manual")
    )
    album_session = int(row.id)
    await sc.bus.execute(cmd.StartSession(session_id=album_session, actor_id=user.id))
    await sc.bus.execute(
        cmd.ChangeTrack(session_id=album_session, actor_id=user.id, direction="to", position=7)
    )
    await sc.bus.execute(cmd.CastVote(session_id=album_session, actor_id=user.id, value="8"))
    await sc.bus.execute(cmd.StopSession(session_id=album_session, actor_id=user.id))
    playlist = await sc.bus.execute(
        cmd.PrepareSession(user_id=user.id, playlist=LATE_NIGHT, playback="manual")
    )

    async with serve(sc) as base, chromium(sc, base, user.id) as context:
        page = await context.new_page()
        await page.goto(f"{base}/sessions/{album_session}/report")
        numbers = await page.locator(
            ".report-table [data-track-row] .track-number"
        ).all_inner_texts()
        assert [n.strip() for n in numbers] == [str(n) for n in range(1, 10)]
        seventh = page.locator(".report-table [data-track-row]").nth(6)
        assert "The Ferryman's Daughter" in await seventh.inner_text()
        assert "8.0" in await seventh.inner_text()
        async with httpx.AsyncClient(
            base_url=base, cookies=context_cookies(await context.cookies())
        ) as web:
            csv = (await web.get(f"/sessions/{album_session}/report.csv")).text
        assert re.search(r"^7,The Ferryman's Daughter,", csv, re.M)
        # The playlist's control page numbers its entries and names each track's artists.
        await page.goto(f"{base}/sessions/{playlist.id}")
        await page.wait_for_selector(".control.is-connected.status-preparing")
        first_row = page.locator("[data-track-row]").first
        assert (await first_row.locator(".track-number").inner_text()).strip() == "1"
        assert "Fake Curator" not in await first_row.inner_text()
        assert await first_row.locator("[data-track-artists]").count() == 1


def context_cookies(cookies: list[Any]) -> dict[str, str]:
    return {c["name"]: c["value"] for c in cookies}


async def test_the_poll_panel_shows_live_percentages_and_ends_and_runs_again(
    container: Any,
) -> None:
    c = container
    cast = await make_cast(c)
    session_id = await prepared_and_started(
        c, cast.streamer, vote_mode="poll", scale="1-5", poll_duration_s=90
    )
    first_poll = (await load(c, session_id)).current_poll_id
    assert first_poll is not None
    async with serve(c) as base, chromium(c, base, cast.streamer.id) as context:
        control = await context.new_page()
        await control.goto(f"{base}/sessions/{session_id}")
        await control.wait_for_selector(".control.is-connected.status-active")
        await control.wait_for_selector("[data-poll-panel].poll-running")
        assert await control.locator("[data-poll-choices] .poll-choice").count() == 5
        assert (await text_of(control, "[data-poll-state]")).startswith("ends in 1:")

        await poll_update(c, first_poll, {"2": 1, "4": 3})
        await wait_for_text(control, '[data-poll-option="4"] [data-poll-percent]', "75 % (3)", 2)
        await wait_for_text(control, '[data-poll-option="2"] [data-poll-percent]', "25 % (1)", 2)
        await wait_for_text(control, "[data-poll-total]", "4", 2)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await control.locator("[data-poll-panel]").screenshot(
            path=str(SCREENSHOTS / "poll-panel.png")
        )

        await control.click("[data-action=end-poll]")
        await control.wait_for_selector("[data-poll-panel].poll-ended", timeout=2000)
        await wait_for_text(control, "[data-poll-state]", "Poll ended", 2)
        await control.click("[data-action=poll-again]")
        await control.wait_for_selector("[data-poll-panel].poll-running", timeout=2000)
        await wait_for_text(control, "[data-poll-total]", "0", 2)
        assert (await load(c, session_id)).current_poll_id != first_poll


async def test_spotify_unlinked_mid_show_switches_to_manual_and_back(
    container: Any, memory_ports: Any
) -> None:
    c = container
    cast = await make_cast(c)
    session_id = await prepared_and_started(c, cast.streamer, playback="spotify")
    async with serve(c) as base, chromium(c, base, cast.streamer.id) as context:
        control = await context.new_page()
        await control.goto(f"{base}/sessions/{session_id}")
        await control.wait_for_selector(".control.is-connected.playback-spotify")
        memory_ports.playback.fail_on["play_context"] = AccountNotConnected(
            "Connect your Spotify account first"
        )
        await control.click(".player [data-action=next]")
        await wait_for_text(control, ".control-grid [data-field='track.number']", "2", 2)
        await control.wait_for_selector(".control.playback-manual", timeout=2000)
        banner = control.locator('[data-spotify-problem="disconnected"]')
        await banner.wait_for(state="visible", timeout=2000)
        assert "Spotify disconnected" in await banner.inner_text()
        assert await banner.locator("a[href='/auth/spotify/login']").count() == 1
        # By hand from now on: Next and Previous still move the session.
        await control.click(".only-manual[data-action=next]")
        await wait_for_text(control, ".control-grid [data-field='track.number']", "3", 2)
        await control.click("[data-action=switch-spotify]")
        await control.wait_for_selector(".control.playback-spotify", timeout=2000)
        await banner.wait_for(state="hidden", timeout=2000)
        assert memory_ports.playback.playing[cast.streamer.id][1] == 2
        row = await load(c, session_id)
        assert (row.playback, row.current_index) == ("spotify", 2)
        await control.click("[data-action=switch-manual]")
        await control.wait_for_selector(".control.playback-manual", timeout=2000)


async def test_a_delayed_stream_shows_early_votes_and_the_heard_track(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    c = container
    user_id = await register(c, "streamer", STREAMER_TWITCH_ID)
    viewer = await create_user(c, "webviewer", "viewer")
    row = await c.bus.execute(
        cmd.PrepareSession(
            user_id=user_id, album="4aawyAB9vmqN3uQ7FjRGTy", stream_delay_s=2, playback="manual"
        )
    )
    session_id = int(row.id)
    await c.bus.execute(cmd.StartSession(session_id=session_id, actor_id=user_id))
    line = chat_delivery("8", "4242", at=fake_clock.now())  # heard 2 s before the start
    assert (
        await app_client.post("/webhooks/twitch", content=line.body, headers=line.headers)
    ).status_code == 204
    await ingest_once(c)
    fake_clock.advance(5)
    async with serve(c) as base, chromium(c, base, user_id) as streamer_context:
        control = await streamer_context.new_page()
        await control.goto(f"{base}/sessions/{session_id}")
        await control.wait_for_selector(".control.is-connected.status-active")
        early = control.locator(".vote-feed-item.is-early")
        assert await early.count() == 1
        assert "before the start" in await early.inner_text()
        assert await early.locator("[data-remove-vote]").count() == 0

        async with chromium(c, base, viewer.id) as viewer_context:
            public = await viewer_context.new_page()
            await public.goto(f"{base}/live/streamer")
            await wait_for_text(public, "[data-field='track.number']", "1", 2)
            await control.click(".only-manual[data-action=next]")
            await wait_for_text(control, ".control-grid [data-field='track.number']", "2", 2)
            # The audience still hears track 1 for the stream delay: the page shows it and a
            # vote from it counts for it.
            await asyncio.sleep(0.5)
            assert await text_of(public, "[data-field='track.number']") == "1"
            await public.click("[data-vote-options] button:text-is('7')")
            await public.wait_for_selector("#vote-feedback .vote-ok", timeout=2000)
            assert "Morning Static" in await text_of(public, "#vote-feedback")
            fake_clock.advance(2)
            await wait_for_text(public, "[data-field='track.number']", "2", 4)
            assert await text_of(public, "[data-field='track.name']") == "Glass Harbour"
    async with c.db.session() as s:
        from premiere_ecoute.sessions import queries

        report = await queries.report(s, session_id)
    assert report["tracks"][0]["votes"] == 1 and report["tracks"][0]["viewer_score"] == 7.0
    assert report["tracks"][1]["votes"] == 0 and report["votes"] == 1
