"""Which routers the app serves; the fakes' pages are mounted only when fakes are on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container


def include_routes(app: FastAPI, c: Container) -> None:
    from premiere_ecoute.web import streams
    from premiere_ecoute.web.api import v1
    from premiere_ecoute.web.routes import (
        account_pages,
        admin_pages,
        pages,
        session_pages,
        spotify_auth,
        twitch_auth,
    )
    from premiere_ecoute.web.webhooks import twitch

    app.include_router(v1.router)
    app.include_router(streams.router)
    app.include_router(twitch.router)
    app.include_router(spotify_auth.router)
    app.include_router(twitch_auth.router)
    app.include_router(session_pages.router)
    app.include_router(account_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(pages.router)
    pages.install(app, c)
    fakes = c.services.get("fakes")
    if fakes is not None:
        app.mount("/_fake/spotify", fakes.spotify_app)
        app.mount("/_fake/twitch", fakes.twitch_app)
