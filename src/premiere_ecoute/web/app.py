"""FastAPI app factory. Everything it needs comes from the container built by ``bootstrap``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from premiere_ecoute.web.errors import install_error_handlers
from premiere_ecoute.web.middleware import RequestContext

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

log = structlog.get_logger(__name__)
WEB_DIR = Path(__file__).resolve().parent


def create_app(container: Container, *, run_background: bool = True) -> FastAPI:
    """``run_background``: also run the ingest loop (and, in development, the worker)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await container.start()
        if run_background:
            from premiere_ecoute.runtime import start_web_background

            await start_web_background(container)
        log.info("web.started", base_url=container.settings.base_url)
        try:
            yield
        finally:
            log.info("web.stopping")
            await container.stop()

    app = FastAPI(
        title="Premiere Ecoute",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.container = container
    install_error_handlers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=container.settings.secret_key,
        session_cookie="pe_session",
        same_site="lax",
        https_only=container.settings.base_url.startswith("https://"),
    )
    app.add_middleware(RequestContext, metrics=container.metrics)
    static = WEB_DIR / "static"
    static.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=static), name="static")

    from premiere_ecoute.web.routes import system

    app.include_router(system.router)
    from premiere_ecoute.web.routing import include_routes

    include_routes(app, container)
    return app
