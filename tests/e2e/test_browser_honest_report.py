"""The honest report and the chat-command settings in a real browser (Chromium), in English,
French and Italian."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete

from premiere_ecoute.jobs.scores import refresh_priors
from premiere_ecoute.sessions.models import ScorePrior
from premiere_ecoute.sessions.repository import get_session
from tests.e2e.test_browser_control import CHROMIUM, CHROMIUM_ARGS, served, session_cookie
from tests.support.pages import SCREENSHOTS, login_session
from tests.support.sessions import apply, at, ballot, make_cast, move, prepared_and_started, stop

__all__ = ["served"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]

TIPS = {
    "en": "C = 10 imaginary ratings at m = 5.0",
    "fr": "C = 10 notes fictives à m = 5,0",
    "it": "C = 10 voti immaginari pari a m = 5,0",
}


async def test_report_ranks_by_bayesian_average_with_its_formula(
    container: Any, served: str
) -> None:
    from playwright.async_api import async_playwright

    c = container
    cast = await make_cast(c)
    sid = await prepared_and_started(c, cast.streamer)
    await apply(c, sid, [ballot(f"a{i}", "10", at(c, 1)) for i in range(3)])
    c.clock.advance(30)
    await move(c, cast.streamer, sid, "next")
    await apply(c, sid, [ballot(f"b{i}", "10" if i < 6 else "8", at(c, 31)) for i in range(30)])
    await apply(c, sid, [ballot("s", "2", at(c, 32), streamer=True)])
    c.clock.advance(30)
    await stop(c, cast.streamer, sid)
    # the instance: (30 + 60 + 192) / 10 = 28.2 over 33 ratings, m = 8.55 on 0-10; before the
    # refresh, the neutral 5.00 is the prior
    assert (await refresh_priors(c.job_deps())) == {"0-10": (pytest.approx(28.2), 33)}
    async with c.db.session() as s:
        await s.execute(delete(ScorePrior))  # back to the neutral prior for the tooltips
        await s.commit()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await (
                await browser.new_context(viewport={"width": 1280, "height": 1800})
            ).new_page()
            for locale, tip in TIPS.items():
                await page.goto(f"{served}/sessions/{sid}/report?locale={locale}")
                ranked = page.locator("[data-ranked-by]")
                assert tip in (await ranked.get_attribute("title") or "")
                podium = [
                    t.strip() for t in await page.locator(".podium li strong").all_inner_texts()
                ]
                # 30 votes averaging 8.4 outrank 3 votes of 10
                assert podium == ["Glass Harbour", "Morning Static"]
                assert (
                    "Glass Harbour"
                    in await page.locator("[data-figure=most-divisive]").inner_text()
                )
                assert await page.locator("[data-figure=disagreements] li").count() == 1
                await page.screenshot(
                    path=str(SCREENSHOTS / f"report-{locale}.png"), full_page=True
                )
        finally:
            await browser.close()


async def test_chat_commands_are_switched_from_the_control_page(
    container: Any, served: str
) -> None:
    from playwright.async_api import async_playwright

    cast = await make_cast(container)
    sid = await prepared_and_started(container, cast.streamer)
    cookie = session_cookie(
        container.settings.secret_key,
        user_id=cast.streamer.id,
        sid=await login_session(container, cast.streamer.id),
    )
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 1400})
            await context.add_cookies([{"name": "pe_session", "value": cookie, "url": served}])
            page = await context.new_page()
            await page.goto(f"{served}/sessions/{sid}?locale=fr")
            form = page.locator("[data-chat-commands]")
            await form.locator("input[name=myvote]").uncheck()
            await form.locator("select[name=chat_language]").select_option("it")
            await form.locator("button[type=submit]").click()
            await page.wait_for_function(
                "() => document.querySelector('#action-feedback')"
                ".textContent.includes('Commandes de chat enregistrées.')",
                timeout=3000,
            )
            await page.screenshot(path=str(SCREENSHOTS / "chat-commands-fr.png"), full_page=True)
        finally:
            await browser.close()
    async with container.db.session() as s:
        row = await get_session(s, sid)
    assert row.chat_language == "it"
    assert row.chat_commands == {"score": True, "myvote": False, "top": True}
