"""serve, worker, migrate."""

from __future__ import annotations

import asyncio
import os
import signal

import typer
import uvicorn
from starlette.types import ASGIApp

from premiere_ecoute.bootstrap import (
    Container,
    build,
    resolve_database_url,
    run_worker_process,
    web_app,
)
from premiere_ecoute.cli.common import container, fail, settings
from premiere_ecoute.config import Settings
from premiere_ecoute.core import migrations
from premiere_ecoute.demo import seed_if_empty
from premiere_ecoute.telemetry.logging import configure_logging
from premiere_ecoute.web.app import served


def serve(
    host: str = typer.Option(None, help="Interface to listen on (default HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default PORT or 8000)"),
    demo: bool = typer.Option(
        None, help="Seed demo data on an empty database (default: on in development)"
    ),
    workers: int = typer.Option(
        1, min=1, max=64, help="Web processes sharing the port (live updates cross the broker)"
    ),
) -> None:
    """Run the web app. In development it also runs the worker and the built-in fakes."""
    s = settings()
    configure_logging(s.log_level, s.log_json)
    refuse_without_base_url(s)
    host = host or s.host
    port = port or s.port
    if s.base_url == "http://127.0.0.1:8000" and port != 8000:
        s = settings(base_url=f"http://127.0.0.1:{port}")
    try:
        c = build(s)
        migrations.upgrade(c.database_url)
    except Exception as exc:
        fail(f"cannot prepare the database: {exc}")
        raise
    seed = demo if demo is not None else s.environment == "development"
    # uvicorn stops gracefully on SIGTERM, then raises the signal again with the handler it
    # found. Python's default one kills the process on the spot, skipping the exit hooks, and
    # one of them stops the embedded PostgreSQL: exit like on Ctrl-C instead.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    options = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 3,
        "lifespan": "on",
    }
    if workers == 1:
        app = web_app(c, on_started=seed_if_empty if seed else None)
        uvicorn.run(served(app), **options)  # type: ignore[arg-type]
        return
    # Several processes: this one seeds once and keeps the embedded database (if any)
    # running; each child builds its own container on the same database.
    if seed:
        asyncio.run(_seed_once(c))
    os.environ["DATABASE_URL"] = c.database_url
    os.environ["BASE_URL"] = s.base_url
    uvicorn.run(
        f"{__name__}:child_app",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]
    )


async def _seed_once(c: Container) -> None:
    try:
        await c.start()
        await seed_if_empty(c)
    finally:
        await c.stop()


def child_app() -> ASGIApp:
    """One web process of ``serve --workers N`` (uvicorn imports and calls this)."""
    s = settings()
    configure_logging(s.log_level, s.log_json)
    return served(web_app(build(s)))


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def worker() -> None:
    """Run the job worker and the vote ingest loop (production: as many as needed)."""
    s = settings()
    configure_logging(s.log_level, s.log_json)
    refuse_without_base_url(s)

    async def main() -> None:
        # With the fakes on, the worker uses the ones the web process serves (BASE_URL):
        # one fake Twitch holds the subscriptions, so none looks lost to the restore job.
        async with container(s, fakes_at=s.base_url if s.use_fakes else None) as c:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, c.stopping.set)
            await run_worker_process(c)

    asyncio.run(main())


def refuse_without_base_url(s: Settings) -> None:
    if s.base_url_missing:
        fail(
            "BASE_URL must be set in production: it is the public https:// address Twitch "
            "sends webhooks to and OAuth redirects back to (e.g. BASE_URL=https://premiere.example)"
        )


def migrate() -> None:
    """Apply database migrations (also done at every serve start)."""
    s = settings()
    url = resolve_database_url(s)
    try:
        migrations.upgrade(url)
    except Exception as exc:
        fail(f"migration failed: {exc}")
    typer.echo(f"database at revision {migrations.current_revision(url)}")
