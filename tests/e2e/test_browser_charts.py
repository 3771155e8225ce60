"""`/charts`, an album page and `/me/ratings` in a real browser, in English, French and
Italian, over the hand-built sessions of the chart tests; the English pages are saved as the
screenshots (see tests/support/pages.py: SCREENSHOTS)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_browser_control import CHROMIUM, CHROMIUM_ARGS, served
from tests.support.charts import ALBUMS, ALPHA, five_sessions, refreshed
from tests.support.memory_ports import MemoryCatalog, MemoryPorts
from tests.support.pages import SCREENSHOTS, signed_in_cookie
from tests.support.sessions import make_cast

WORDS = {
    "en": {
        "charts": "Charts",
        "tracks": "Tracks compared",
        "mine": "My ratings",
        "taste": "Taste match",
    },
    "fr": {
        "charts": "Classements",
        "tracks": "Pistes comparées",
        "mine": "Mes notes",
        "taste": "Affinité de goûts",
    },
    "it": {
        "charts": "Classifiche",
        "tracks": "Brani a confronto",
        "mine": "I miei voti",
        "taste": "Affinità di gusti",
    },
}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]
__all__ = ["served"]  # the fixture, shared with the control page's browser test


@pytest.fixture
def memory_ports(fake_clock: Any) -> MemoryPorts:
    return MemoryPorts(clock=fake_clock, catalog=MemoryCatalog(ALBUMS))


async def test_charts_album_and_my_ratings_in_three_languages(container: Any, served: str) -> None:
    from playwright.async_api import async_playwright

    cast = await make_cast(container)
    await five_sessions(container, cast)
    await refreshed(container)
    cookie = await signed_in_cookie(container, cast.viewer.id)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 1000})
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": served}])
            page = await context.new_page()
            for locale, words in WORDS.items():
                await page.goto(f"{served}/charts?locale={locale}")
                assert (await page.locator("h1").inner_text()).strip() == words["charts"]
                names = await page.locator(
                    "[data-testid=top-albums] tbody tr td:nth-child(3)"
                ).all_inner_texts()
                assert [n.strip() for n in names] == ["Gamma", "Beta", "Alpha"]
                await page.select_option("select[name=period]", "week")
                await page.click("[data-testid=chart-filters] button")
                await page.wait_for_url("**period=week**")
                names = await page.locator(
                    "[data-testid=top-albums] tbody tr td:nth-child(3)"
                ).all_inner_texts()
                assert [n.strip() for n in names] == ["Alpha", "Beta"]
                if locale == "en":
                    await page.goto(f"{served}/charts")
                    await page.screenshot(path=str(SCREENSHOTS / "charts.png"), full_page=True)

                await page.goto(f"{served}/charts?locale={locale}")
                await page.click(f"[data-testid=top-albums] a[href='/albums/{ALPHA.spotify_id}']")
                await page.wait_for_url(f"**/albums/{ALPHA.spotify_id}")
                assert (await page.locator("h1").inner_text()).strip() == "Alpha"
                assert words["tracks"] in await page.locator("main").inner_text()
                assert await page.locator("[data-testid=album-sessions] tbody tr").count() == 2
                assert await page.locator("[data-testid=album-tracks] tbody tr").count() == 3
                if locale == "en":
                    await page.screenshot(path=str(SCREENSHOTS / "album.png"), full_page=True)

                await page.goto(f"{served}/me/ratings?locale={locale}")
                assert (await page.locator("h1").inner_text()).strip() == words["mine"]
                assert words["taste"] in await page.locator("[data-testid=taste]").inner_text()
                assert await page.locator("[data-testid=rated-albums] tbody tr").count() == 10
                if locale == "en":
                    await page.screenshot(path=str(SCREENSHOTS / "me-ratings.png"), full_page=True)

            await page.goto(f"{served}/me/ratings?locale=en")
            await page.click("[data-testid=visibility] button")
            await page.wait_for_selector(
                f"[data-testid=visibility] a[href='/u/{cast.viewer.login}']"
            )
            public = await context.new_page()
            await context.clear_cookies()
            await public.goto(f"{served}/u/{cast.viewer.login}")
            assert "Alpha" in await public.locator("main").inner_text()
        finally:
            await browser.close()
