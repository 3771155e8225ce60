"""Languages in Chromium: French chosen on /account stays chosen on the next pages (the
account's follows, the admin pages, the sessions), and a refusal of the domain is shown in
French."""

from __future__ import annotations

from typing import Any

from playwright.async_api import async_playwright

from tests.e2e.test_browser_control import (
    CHROMIUM,
    CHROMIUM_ARGS,
    pytestmark,
    served,
)
from tests.support.pages import SCREENSHOTS, signed_in_cookie
from tests.support.sessions import make_cast

__all__ = ["pytestmark", "served"]


async def test_french_chosen_on_the_account_page_stays_and_refusals_are_french(
    container: Any, served: str
) -> None:
    cast = await make_cast(container)
    cookie = await signed_in_cookie(container, cast.admin.id)
    seen: dict[str, tuple[str, str]] = {}

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(locale="en-US")
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": served}])
            page = await context.new_page()
            await page.goto(f"{served}/account")
            assert await page.get_attribute("html", "lang") == "en"
            await page.click('.lang-switch a[hreflang="fr"]')
            await page.wait_for_url("**/account")
            for path in ("/account", "/account/follows", "/admin", "/admin/users", "/sessions"):
                link = page.locator(f'a[href="{path}"]')
                if await link.count():  # by its link, as a reader would
                    await link.first.click()
                    await page.wait_for_url(f"**{path}")
                else:
                    await page.goto(served + path)
                lang = await page.get_attribute("html", "lang") or ""
                seen[path] = (lang, (await page.locator("h1").first.inner_text()).strip())
            # A refusal of the domain: a link that is not a Spotify album.
            await page.goto(f"{served}/sessions/new")
            await page.fill('input[name="source"]', "https://example.com/not-an-album")
            await page.click('form[action="/sessions/new"] button[type="submit"]')
            await page.wait_for_load_state()
            refusal = await page.locator(".banner-error").all_inner_texts()
            await page.screenshot(path=str(SCREENSHOTS / "languages-refusal.png"), full_page=True)
        finally:
            await browser.close()

    assert {path: lang for path, (lang, _) in seen.items()} == dict.fromkeys(seen, "fr")
    assert seen["/account"][1] == "Votre compte"
    assert seen["/account/follows"][1] == "Streamers suivis"
    text = " ".join(refusal)
    assert "Spotify" in text and "Not a Spotify" not in text, text
    assert "n'est pas" in text or "n’est pas" in text, text
