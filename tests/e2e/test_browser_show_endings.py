"""The show in a real browser (issue 11): the final scene after Stop on the overlay and the
public page, the overlay's moments (a new track, a track's votes closing), and the control
page and the report at phone width (390 px) with keyboard shortcuts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.demo import create_token
from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.web.live import BYE, LiveHub
from tests.e2e import test_browser_control as control
from tests.e2e.conftest import free_port
from tests.e2e.test_browser_control import (
    CHROMIUM,
    CHROMIUM_ARGS,
    text_of,
    wait_for_text,
)
from tests.support.pages import SCREENSHOTS, signed_in_cookie
from tests.support.sessions import make_cast, prepare

served = control.served  # the app on a free port (a fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


async def _vote(api: httpx.AsyncClient, session_id: int, token: str, value: str) -> None:
    answer = await api.post(
        f"/api/v1/sessions/{session_id}/votes",
        json={"value": value},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text


async def _act(api: httpx.AsyncClient, session_id: int, token: str, action: str) -> None:
    answer = await api.post(
        f"/api/v1/sessions/{session_id}/{action}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code in (200, 201), answer.text


async def test_stop_shows_the_final_scene_and_the_overlay_marks_moments(
    container: Any, served: str
) -> None:
    from playwright.async_api import async_playwright

    cast = await make_cast(container)
    session_id = await prepare(container, cast.streamer, playback="manual", final_scene_s=60)
    owner = await create_token(container, cast.streamer.id)
    viewer = await create_token(container, cast.viewer.id)
    login = cast.streamer.login

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1100, "height": 900})
            overlay = await context.new_page()
            errors: list[str] = []
            overlay.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await overlay.goto(f"{served}/overlay/{login}?mode=full")
            await overlay.wait_for_selector(".overlay-frame.is-connected.is-idle")
            public = await context.new_page()
            await public.goto(f"{served}/live/{login}")
            await public.wait_for_selector(".live.is-connected.is-idle")

            async with httpx.AsyncClient(base_url=served) as api:
                await _act(api, session_id, owner, "start")
                await overlay.wait_for_selector(".overlay-frame.is-active", timeout=3000)
                await _vote(api, session_id, viewer, "8")
                await wait_for_text(overlay, "[data-field='track.viewer_score']", "8.0", 3)
                # Closing the votes shows the track's final score for a moment.
                await _act(api, session_id, owner, "votes/close")
                await overlay.wait_for_selector(".overlay-frame.show-result", timeout=3000)
                assert await text_of(overlay, "[data-result-score]") == "8.0"
                await _act(api, session_id, owner, "votes/open")
                await _act(api, session_id, owner, "next")
                await overlay.wait_for_selector(".overlay-frame.track-changed", timeout=3000)
                await wait_for_text(overlay, "[data-field='track.number']", "2", 3)
                await _vote(api, session_id, viewer, "4")
                await wait_for_text(overlay, "[data-field='track.viewer_score']", "4.0", 3)
                await _act(api, session_id, owner, "stop")

            await overlay.wait_for_selector(".overlay-frame.is-final", timeout=3000)
            await public.wait_for_selector(".live.is-final", timeout=3000)
            assert await overlay.locator(".overlay-final").is_visible()
            assert not await overlay.locator(".overlay-panel.when-active").is_visible()
            assert await text_of(overlay, ".overlay-final [data-field='final.viewer_score']") == (
                "6.0"
            )
            assert await text_of(public, "[data-field='final.top.name']")
            assert await text_of(public, "[data-field='final.top.viewer_score']") == "8.0"
            assert await text_of(public, "[data-field='final.bottom.viewer_score']") == "4.0"
            link = public.locator("a[data-field-href='final.report_url']")
            assert await link.get_attribute("href") == f"/sessions/{session_id}/report"
            assert await link.is_visible()
            assert not await public.locator(".idle-message").is_visible()
            assert not [e for e in errors if "[object Event]" in e]
            # The browser rounds scores by the server's rule (core.display).
            shown = await overlay.evaluate(
                "[6.65, 6.75, 6.99, 0.15, 7.25].map(window.premiereEcoute.formatScore)"
            )
            assert shown == ["6.7", "6.8", "7.0", "0.2", "7.3"]
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await public.wait_for_timeout(800)  # the scene's entrance is over
            await public.screenshot(path=str(SCREENSHOTS / "final-scene.png"), full_page=True)
        finally:
            await browser.close()


WIDEST = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    const wide = (e) => e.getBoundingClientRect().right > 390.5;
    if (wide(el) && r.width > 0 && ![...el.children].some(wide))
      out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right)
               + ' w' + Math.round(r.width) + ' ' + getComputedStyle(el).minWidth);
  }
  return out.slice(0, 15);
}"""


async def _fits(page: Any, url: str) -> None:
    await page.goto(url)
    await page.wait_for_load_state("networkidle")
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, (url, width, await page.evaluate(WIDEST))


async def test_the_control_page_and_the_report_fit_a_phone_and_keys_drive_the_show(
    container: Any, served: str
) -> None:
    from playwright.async_api import async_playwright

    cast = await make_cast(container)
    session_id = await prepare(container, cast.streamer, playback="manual")
    owner = await create_token(container, cast.streamer.id)
    viewer = await create_token(container, cast.viewer.id)
    cookie = await signed_in_cookie(container, cast.streamer.id)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
            )
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": served}])
            page = await context.new_page()
            await _fits(page, f"{served}/sessions/{session_id}")  # preparing
            async with httpx.AsyncClient(base_url=served) as api:
                await _act(api, session_id, owner, "start")
                await _vote(api, session_id, viewer, "7")
            await _fits(page, f"{served}/sessions/{session_id}")  # active
            await page.wait_for_selector(".control.is-connected.status-active")

            # Each Play button is named after its track; the current one is disabled.
            plays = page.locator("[data-track-row] button[data-play]")
            names = [await plays.nth(i).get_attribute("aria-label") for i in range(4)]
            assert names[1] == "Play Glass Harbour"
            assert await plays.nth(0).is_disabled() and not await plays.nth(1).is_disabled()

            # Keys: N next, P previous, a number rates; not while typing in a field.
            await page.keyboard.press("n")
            await wait_for_text(page, ".control [data-field='track.number']", "2", 3)
            await page.keyboard.press("8")
            await page.wait_for_selector("[data-rate='8'].is-chosen", timeout=3000)
            await page.keyboard.press("1")
            await page.keyboard.press("0")
            await page.wait_for_selector("[data-rate='10'].is-chosen", timeout=3000)
            await page.keyboard.press("p")
            await wait_for_text(page, ".control [data-field='track.number']", "1", 3)
            await page.focus("[data-overlay-param='idle']")
            await page.keyboard.press("n")
            await page.wait_for_timeout(500)
            assert await text_of(page, ".control [data-field='track.number']") == "1"
            assert await plays.nth(0).is_disabled()

            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
            await page.screenshot(path=str(SCREENSHOTS / "control-phone.png"), full_page=True)
            async with httpx.AsyncClient(base_url=served) as api:
                await _act(api, session_id, owner, "stop")
            await _fits(page, f"{served}/sessions/{session_id}/report")
            await _fits(page, f"{served}/sessions/{session_id}")  # stopped
        finally:
            await browser.close()


PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
    "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


async def test_the_player_overlay_shows_the_stored_cover_else_a_placeholder(
    container: Any, served: str
) -> None:
    from playwright.async_api import async_playwright
    from sqlalchemy import update

    from premiere_ecoute.discography.models import Album

    cast = await make_cast(container)
    session_id = await prepare(container, cast.streamer, playback="manual")
    owner = await create_token(container, cast.streamer.id)
    overlay_url = f"{served}/overlay/{cast.streamer.login}?mode=player"

    async def announce() -> None:
        message = {"session_id": session_id, "user_id": cast.streamer.id}
        await container.kernel.broker.publish(LIVE_TOPIC, message)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            async with httpx.AsyncClient(base_url=served) as api:
                await _act(api, session_id, owner, "start")
            await page.goto(overlay_url)
            await page.wait_for_selector(".overlay-frame.is-active")
            no_cover = (
                await page.locator("img.overlay-cover").first.is_visible(),
                await page.locator(".overlay-player .cover-placeholder").is_visible(),
            )
            async with container.db.session() as s, s.begin():
                await s.execute(update(Album).values(cover_url=PIXEL))
            # Written behind the domain's back: say it changed, as a command's commit would.
            await announce()
            await page.goto(overlay_url)
            await page.wait_for_selector(".overlay-frame.is-active")
            cover = page.locator(".overlay-player img.overlay-cover")
            await page.wait_for_function(
                "() => document.querySelector('.overlay-player img.overlay-cover').naturalWidth > 0"
            )
            with_cover = (
                await cover.is_visible(),
                await page.locator(".overlay-player .cover-placeholder").is_visible(),
            )
            async with container.db.session() as s, s.begin():
                await s.execute(update(Album).values(cover_url="http://127.0.0.1:9/none.jpg"))
            await announce()
            await page.goto(overlay_url)
            await page.wait_for_selector(".overlay-player .cover-placeholder:not([hidden])")
            broken = await cover.is_visible()
        finally:
            await browser.close()

    assert no_cover == (False, True)
    assert with_cover == (True, False)
    assert broken is False


@pytest.fixture
async def served_app(container: Any) -> AsyncIterator[tuple[str, Any]]:
    """Like ``served``, with the app at hand (its live hub)."""
    import uvicorn

    app = web_app(container, run_background=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 10 s
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        container.stopping.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def test_a_closed_stream_reconnects_quietly_and_play_or_pause_shows_alone(
    container: Any, served_app: tuple[str, Any]
) -> None:
    from playwright.async_api import async_playwright

    served, app = served_app
    cast = await make_cast(container)
    session_id = await prepare(container, cast.streamer, playback="spotify")
    owner = await create_token(container, cast.streamer.id)
    cookie = await signed_in_cookie(container, cast.streamer.id)
    async with httpx.AsyncClient(base_url=served) as api:
        await _act(api, session_id, owner, "start")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1100, "height": 900})
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": served}])
            page = await context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await page.goto(f"{served}/sessions/{session_id}")
            await page.wait_for_selector(".control.is-connected.status-active")
            # No reading of the player yet: its state is unknown, so Play shows alone.
            assert not await page.evaluate(
                "document.querySelector('.control').classList.contains('player-playing')"
            )
            play = page.locator(".player [data-action='resume']")
            pause = page.locator(".player [data-action='pause']")
            unknown = (await play.is_visible(), await pause.is_visible())

            # The server ends every stream (as at a deployment): the page reconnects quietly.
            hub: LiveHub = app.state.live
            hub._end_all(BYE)
            await page.wait_for_selector(".control.is-disconnected", timeout=3000)
            await page.wait_for_selector(".control.is-connected", timeout=5000)
        finally:
            await browser.close()

    assert unknown == (True, False)
    assert [e for e in errors if "Event" in e] == []


async def test_the_dashboard_checklist_guides_a_first_show(container: Any, served: str) -> None:
    from playwright.async_api import async_playwright

    cast = await make_cast(container)
    cookie = await signed_in_cookie(container, cast.streamer.id)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1000, "height": 900})
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": served}])
            page = await context.new_page()
            await page.goto(f"{served}/")
            checklist = page.locator("[data-checklist]")
            assert await checklist.is_visible()
            assert await page.locator("[data-check]").count() == 5
            await page.locator("[data-check='vote'] [data-fix]").click()
            await page.wait_for_url(f"{served}/live/{cast.streamer.login}")
            await page.go_back()
            await page.locator("[data-checklist]").scroll_into_view_if_needed()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.locator("[data-checklist]").screenshot(
                path=str(SCREENSHOTS / "checklist.png")
            )
        finally:
            await browser.close()
