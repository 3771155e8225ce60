"""The dashboard's "Live now" card in Chromium: it shows a followed streamer who starts a
session, and drops them when they stop, without a reload."""

from __future__ import annotations

import time
from typing import Any

from playwright.async_api import async_playwright

from premiere_ecoute.accounts.models import Follow
from tests.e2e.test_browser_control import (
    CHROMIUM,
    CHROMIUM_ARGS,
    pytestmark,
    served,
)
from tests.support.pages import signed_in_cookie
from tests.support.sessions import make_cast, prepared_and_started, stop

__all__ = ["pytestmark", "served"]


async def test_live_now_follows_a_streamer_going_live_and_off_air(
    container: Any, served: str
) -> None:
    cast = await make_cast(container)
    async with container.db.session() as s:
        s.add(Follow(follower_id=cast.viewer.id, streamer_id=cast.streamer.id, source="app"))
        await s.commit()
    cookie = await signed_in_cookie(container, cast.viewer.id)
    link = f'.live-now a[href="/live/{cast.streamer.login}"]'

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": served}])
            page = await context.new_page()
            await page.goto(served + "/")
            await page.wait_for_selector(".live-now p.muted")
            await page.wait_for_timeout(500)  # the stream is open
            assert await page.locator(link).count() == 0

            session_id = await prepared_and_started(container, cast.streamer)
            started = time.monotonic()
            await page.wait_for_selector(link, timeout=5000)
            went_live_s = time.monotonic() - started
            await stop(container, cast.streamer, session_id)
            started = time.monotonic()
            await page.wait_for_selector(link, state="detached", timeout=5000)
            went_off_s = time.monotonic() - started
            await page.wait_for_selector(".live-now p.muted")
        finally:
            await browser.close()

    print(f"live now: on air in {went_live_s:.2f} s, off air in {went_off_s:.2f} s")
    assert went_live_s < 3 and went_off_s < 3
