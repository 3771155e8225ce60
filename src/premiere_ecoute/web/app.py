"""FastAPI app factory. Everything it needs comes typed in ``WebDeps`` (built by
``bootstrap``); ``on_start``/``on_stop`` are the process's own start and stop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from premiere_ecoute.accounts.models import WEB_SESSION_IDLE
from premiere_ecoute.web import streams
from premiere_ecoute.web.api import v1, v1_vod
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import WebDeps
from premiere_ecoute.web.errors import install_error_handlers
from premiere_ecoute.web.forms import csrf_token, locale_of
from premiere_ecoute.web.i18n import Templating
from premiere_ecoute.web.live import LiveHub, live_views
from premiere_ecoute.web.middleware import RequestContext
from premiere_ecoute.web.routes import (
    account_pages,
    admin_pages,
    charts_pages,
    pages,
    ratings_pages,
    session_pages,
    spotify_auth,
    system,
    twitch_auth,
)
from premiere_ecoute.web.security import SecurityHeaders
from premiere_ecoute.web.webhooks import twitch
from premiere_ecoute.web.webhooks.twitch import TwitchWebhook

log = structlog.get_logger(__name__)
WEB_DIR = Path(__file__).resolve().parent
ROUTERS = (
    system.router,
    v1.router,
    v1_vod.router,
    streams.router,
    spotify_auth.router,
    twitch_auth.router,
    session_pages.router,
    account_pages.router,
    admin_pages.router,
    charts_pages.router,
    ratings_pages.router,
    pages.router,
)


def create_app(
    deps: WebDeps,
    *,
    on_start: Callable[[], Awaitable[None]],
    on_stop: Callable[[], Awaitable[None]],
) -> FastAPI:
    kernel = deps.kernel
    templating = Templating(WEB_DIR / "templates", WEB_DIR / "locale")

    hub = LiveHub(kernel.broker, live_views(kernel), kernel.metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await on_start()
        log.info("web.started", base_url=kernel.settings.base_url)
        try:
            yield
        finally:
            log.info("web.stopping")
            await hub.close()
            await on_stop()

    app = FastAPI(
        title="Premiere Ecoute",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by the v1 router, from the vendored Swagger UI
        redoc_url=None,
    )
    app.state.deps = deps
    app.state.templating = templating
    app.state.live = hub
    app.state.render_error = _error_renderer(templating)
    install_error_handlers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=kernel.settings.secret_key,
        session_cookie="pe_session",
        # The cookie lasts as long as an idle server session (web.auth), renewed by use.
        max_age=int(WEB_SESSION_IDLE.total_seconds()),
        same_site="lax",
        https_only=kernel.settings.base_url.startswith("https://"),
    )
    app.add_middleware(SecurityHeaders, https=kernel.settings.base_url.startswith("https://"))
    app.add_middleware(RequestContext, metrics=kernel.metrics)
    webhook = TwitchWebhook(
        kernel.settings.twitch_webhook_secret, kernel.clock, deps.inbox_writer, kernel.metrics
    )
    # Added last, so outermost: the webhook skips the middleware and routing of pages.
    app.state.hot_paths = {twitch.PATH: webhook}
    app.state.streams = streams.AudienceStreams(hub, kernel.db)
    app.add_middleware(Shortcuts, paths=app.state.hot_paths, streams=app.state.streams)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)
    for path, mounted in deps.mounts.items():
        app.mount(path, mounted)
    return app


def served(app: FastAPI) -> ASGIApp:
    """What the server runs: the hot paths answered before FastAPI's own entry (its
    per-request telemetry and error middleware) is reached, then the app. In-process
    tests call ``app`` itself, where the same paths are served by the outermost
    middleware."""
    return Shortcuts(app, app.state.hot_paths, app.state.streams)


class Shortcuts:
    """Serves a few hot paths (plain ASGI apps) before the framework's middleware and routing
    see the request."""

    def __init__(
        self, app: ASGIApp, paths: dict[str, ASGIApp], streams: streams.AudienceStreams
    ) -> None:
        self.app = app
        self.paths = paths
        self.streams = streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            handler = self.paths.get(path)
            if handler is not None:
                await handler(scope, receive, send)
                return
            if path.endswith("/stream") and self.streams.match(path) is not None:
                await self.streams(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _error_renderer(
    templating: Templating,
) -> Callable[[Request, int, str], Awaitable[Response]]:
    async def render_error(request: Request, status: int, message: str) -> Response:
        try:
            user = await page_user(request)
        except Exception:  # the error page must render even when the database is down
            user = None
        html = templating.render(
            "error.html",
            {
                "status_code": status,
                "message": message,
                "user": user,
                "request_path": request.url.path,
                # The layout's forms (log out) post with it, on error pages too.
                "csrf_token": csrf_token(request) if "session" in request.scope else None,
            },
            locale_of(request),
        )
        return HTMLResponse(html, status_code=status)

    return render_error
