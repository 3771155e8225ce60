"""The control page in a real browser: a vote cast through the API shows up on the control page
and on the OBS overlay within 2 s, without a reload (SPEC §8, §9, §10)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner

from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.demo import create_token
from tests.e2e.conftest import free_port
from tests.support.pages import SCREENSHOTS, login_session
from tests.support.sessions import make_cast, prepare

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = SCREENSHOTS / "control.png"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


def session_cookie(secret_key: str, **values: Any) -> str:
    data = base64.b64encode(json.dumps(values).encode("utf-8"))
    return TimestampSigner(secret_key).sign(data).decode("utf-8")


@pytest.fixture
async def served(container: Any) -> AsyncIterator[str]:
    """The app on a free port, in this event loop, with real SSE streams."""
    import uvicorn

    app = web_app(container, run_background=False)
    if not any(getattr(r, "path", "") == "/sessions/new" for r in app.routes):
        from premiere_ecoute.web.routes.session_pages import router

        app.include_router(router)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 10 s
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        container.stopping.set()  # ends the open SSE streams
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def text_of(page: Any, selector: str) -> str:
    return str(await page.locator(selector).first.inner_text()).strip()


async def wait_for_text(page: Any, selector: str, expected: str, timeout_s: float) -> float:
    """Seconds until ``selector`` shows ``expected``; fails after ``timeout_s``."""
    started = time.monotonic()
    await page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel);"
        " return !!el && el.textContent.trim() === text; }",
        arg=[selector, expected],
        timeout=timeout_s * 1000,
    )
    return time.monotonic() - started


async def test_votes_reach_the_control_page_and_the_overlay_without_reload(
    container: Any, served: str
) -> None:
    from playwright.async_api import async_playwright

    cast = await make_cast(container)
    session_id = await prepare(container, cast.streamer)
    streamer_token = await create_token(container, cast.streamer.id)
    viewer_token = await create_token(container, cast.viewer.id)
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
            control = await context.new_page()
            await control.goto(f"{served}/sessions/{session_id}")
            await control.wait_for_selector(".control.is-connected.status-preparing")
            overlay = await context.new_page()
            await overlay.goto(f"{served}/overlay/{cast.streamer.login}?mode=full")
            await overlay.wait_for_selector(".overlay-frame.is-connected.is-idle")

            await control.click("[data-action=start]")
            await control.wait_for_selector(".control.status-active", timeout=2000)
            await overlay.wait_for_selector(".overlay-frame.is-active", timeout=2000)
            assert "started" in await text_of(control, "#action-feedback")

            async with httpx.AsyncClient(base_url=served) as api:
                for token, value in ((streamer_token, "9"), (viewer_token, "7")):
                    cast_vote = await api.post(
                        f"/api/v1/sessions/{session_id}/votes",
                        json={"value": value},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    assert cast_vote.status_code == 201, cast_vote.text

            first_row = "[data-track-row] [data-cell=viewer_score]"
            on_control = await wait_for_text(control, first_row, "7.0", 2.0)
            await wait_for_text(control, "[data-track-row] [data-cell=streamer_score]", "9.0", 2)
            await wait_for_text(control, ".control [data-field='session.viewer_score']", "7.0", 2)
            on_overlay = await wait_for_text(
                overlay, "[data-field='track.viewer_score']", "7.0", 2.0
            )
            await wait_for_text(overlay, "[data-field='track.streamer_score']", "9.0", 2.0)
            assert await control.locator("[data-rate='9'].is-chosen").count() == 1
            assert await text_of(control, "[data-overlays]") == "1"
            assert on_control < 2 and on_overlay < 2
            print(f"\nlive update seen: control {on_control:.3f} s, overlay {on_overlay:.3f} s")

            await control.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            await browser.close()
