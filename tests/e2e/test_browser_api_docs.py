"""The API docs in Chromium with every request off our own origin blocked (no internet):
Swagger UI renders, and "Authorize" + "Try it out" call the API with the bearer token."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import async_playwright

from premiere_ecoute.demo import create_token, create_user
from tests.e2e.test_browser_control import CHROMIUM, CHROMIUM_ARGS, pytestmark, served

__all__ = ["pytestmark", "served"]


async def test_docs_work_offline_and_try_it_out_sends_the_token(
    container: Any, served: str
) -> None:
    user = await create_user(container, "docsreader", "streamer")
    token = await create_token(container, user.id, "docs")
    ours = urlsplit(served).netloc
    blocked: list[str] = []

    async def offline(route: Any) -> None:
        if urlsplit(route.request.url).netloc == ours:
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.route("**/*", offline)
            await page.goto(f"{served}/api/v1/docs")
            me = page.locator("#operations-v1-me_api_v1_me_get")
            await me.wait_for(timeout=15_000)
            await page.locator(".btn.authorize").first.click()
            await page.locator(".auth-container input").first.fill(token)
            await page.locator(".auth-btn-wrapper .btn.authorize").first.click()
            await page.locator(".auth-btn-wrapper .btn-done").first.click()
            await me.locator(".opblock-summary").first.click()
            await me.locator(".try-out__btn").click()
            await me.locator(".execute").click()
            status = me.locator(".live-responses-table tbody .response-col_status").first
            await status.wait_for(timeout=10_000)
            status_text = (await status.inner_text()).strip()
            body = await me.locator(".live-responses-table .microlight").first.inner_text()
        finally:
            await browser.close()

    assert status_text == "200", body
    assert '"login": "docsreader"' in body
    assert blocked == []
