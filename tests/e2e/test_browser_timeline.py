"""The vote timeline in a real browser (Chromium): the chart draws votes per minute and the
running score with a band per track, a track of the list shows its part of the chart, a band
opens the VOD at that track, and the report's copy button copies the chapters. Saves
timeline.png among the screenshots (tests/support/pages.py: SCREENSHOTS)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from tests.e2e.test_browser_control import CHROMIUM, CHROMIUM_ARGS, served
from tests.support.pages import SCREENSHOTS
from tests.support.sessions import prepare

__all__ = ["served"]
SCREENSHOT = SCREENSHOTS / "timeline.png"
VOD = "https://www.twitch.tv/videos/2300000001"
# Seconds from the start at which each track begins; the session stops at 900 s.
CHANGES = (0, 200, 420, 660)
STOP = 900

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


async def _played(c: Any, clock: Any) -> tuple[int, Any]:
    """A stopped session of four tracks with a crowd of 16 viewers voting (seeded)."""
    streamer = await create_user(c, "timelinestreamer", "streamer")
    crowd = [await create_user(c, f"fan{i:02d}", "viewer") for i in range(16)]
    sid = await prepare(c, streamer, playback="manual")
    await c.bus.execute(cmd.StartSession(session_id=sid, actor_id=streamer.id))
    rng = random.Random(13)
    now = 0
    moods = (7, 5, 8, 6)
    for index, begin in enumerate(CHANGES):
        if index:
            clock.advance(begin - now)
            now = begin
            await c.bus.execute(
                cmd.ChangeTrack(session_id=sid, actor_id=streamer.id, direction="next")
            )
        end = CHANGES[index + 1] if index + 1 < len(CHANGES) else STOP
        # A burst right after the track starts, then stragglers.
        moments = sorted(
            [begin + rng.randint(5, 25) for _ in range(10)]
            + [begin + rng.randint(30, end - begin - 5) for _ in range(6)]
        )
        for fan, moment in zip(crowd, moments, strict=False):
            clock.advance(moment - now)
            now = moment
            value = max(0, min(10, moods[index] + rng.randint(-2, 2)))
            await c.bus.execute(
                cmd.CastVote(session_id=sid, actor_id=fan.id, value=str(value), source="web")
            )
    clock.advance(STOP - now)
    await c.bus.execute(cmd.StopSession(session_id=sid, actor_id=streamer.id))
    await c.bus.execute(cmd.SetVod(session_id=sid, actor_id=streamer.id, url=VOD, offset="1:00:00"))
    return sid, streamer


async def test_the_timeline_in_chromium(container: Any, fake_clock: Any, served: str) -> None:
    from playwright.async_api import async_playwright

    sid, _streamer = await _played(container, fake_clock)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 1100})
            opened: list[str] = []

            async def vod(route: Any) -> None:
                opened.append(route.request.url)
                await route.fulfill(status=200, content_type="text/html", body="<p>VOD</p>")

            await context.route("https://www.twitch.tv/**", vod)
            errors: list[str] = []
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{served}/sessions/{sid}/timeline")
            canvas = page.locator("canvas[data-timeline]")
            await page.wait_for_selector("canvas[data-timeline][data-ready='true']", timeout=10_000)
            assert await canvas.get_attribute("data-range") == f"0-{STOP}"
            kinds = await page.evaluate(
                "() => Chart.getChart(document.querySelector('canvas[data-timeline]'))"
                ".data.datasets.map(d => d.type + ':' + d.data.length)"
            )
            assert kinds == ["bar:15", "line:15"]
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True)

            # A track of the list shows its part of the chart; "whole session" comes back.
            await page.click("[data-jump='2']")
            assert await canvas.get_attribute("data-range") == f"{CHANGES[2]}-{CHANGES[3]}"
            assert await page.get_attribute("[data-jump='2']", "aria-current") == "true"
            assert page.url.endswith("#track-2")
            await page.click("[data-timeline-reset]")
            assert await canvas.get_attribute("data-range") == f"0-{STOP}"
            assert await page.is_hidden("[data-timeline-reset]")

            # A band opens the VOD at that track: track 2 starts at 200 s, 1 h into the VOD.
            box = await canvas.bounding_box()
            assert box is not None
            x = await page.evaluate(
                "() => Chart.getChart(document.querySelector('canvas[data-timeline]'))"
                ".scales.x.getPixelForValue(300)"
            )
            async with context.expect_page() as popup:
                await canvas.click(position={"x": x, "y": box["height"] / 2})
            tab = await popup.value
            await tab.wait_for_load_state()
            assert tab.url == f"{VOD}?t=1h3m20s"
            assert opened == [f"{VOD}?t=1h3m20s"]

            # A deep link to a track opens on that track.
            await page.goto(f"{served}/sessions/{sid}/report")  # then a fresh load with a hash
            await page.goto(f"{served}/sessions/{sid}/timeline#track-1")
            await page.wait_for_function(
                "() => document.querySelector('canvas[data-timeline]')"
                f".getAttribute('data-range') === '{CHANGES[1]}-{CHANGES[2]}'",
                timeout=10_000,
            )
            await page.goto(f"{served}/sessions/{sid}/timeline#track-3")  # a hash change only
            await page.wait_for_function(
                "() => document.querySelector('canvas[data-timeline]')"
                f".getAttribute('data-range') === '{CHANGES[3]}-{STOP}'",
                timeout=10_000,
            )

            # The report's copy button copies the chapters.
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served)
            await page.goto(f"{served}/sessions/{sid}/report")
            chapters = (await page.inner_text("[data-chapters]")).strip()
            assert chapters.splitlines()[0] == "00:00 Intro"
            assert chapters.splitlines()[1].startswith("01:00:00 1. ")
            await page.click("button[data-copy]")
            await page.wait_for_selector("button[data-copy][data-copy-done='true']")
            copied = await page.evaluate("() => navigator.clipboard.readText()")
            assert copied.strip() == chapters
            assert errors == []
        finally:
            await browser.close()
