"""``create_fake_twitch_app``: the fake Twitch as one ASGI app, mounted at ``/_fake/twitch``.

Point ``TWITCH_API_URL`` at ``BASE_URL/_fake/twitch/helix``, ``TWITCH_AUTH_URL`` at
``BASE_URL/_fake/twitch/oauth2`` and ``TWITCH_EVENTSUB_WS_URL`` at ``ws://.../_fake/twitch/ws``.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from premiere_ecoute.apis.twitch.fake.chat_page import chat_router
from premiere_ecoute.apis.twitch.fake.eventsub_routes import eventsub_router
from premiere_ecoute.apis.twitch.fake.helix_routes import HelixError, helix_router
from premiere_ecoute.apis.twitch.fake.oauth_routes import oauth_router
from premiere_ecoute.apis.twitch.fake.pages import page
from premiere_ecoute.apis.twitch.fake.state import FakeTwitch


def create_fake_twitch_app(state: FakeTwitch) -> FastAPI:
    app = FastAPI(title="Fake Twitch", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fake_twitch = state

    async def helix_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HelixError)
        return exc.response()

    app.add_exception_handler(HelixError, helix_error)
    app.include_router(oauth_router(state))
    app.include_router(helix_router(state))
    app.include_router(eventsub_router(state))
    app.include_router(chat_router(state))

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        links = "".join(
            f'<li><a href="chat/{escape(login)}">#{escape(login)}</a></li>'
            for login in state.demo_logins
        )
        return page("Fake Twitch", f"<p>Chat rooms of the demo users:</p><ul>{links}</ul>")

    return app
