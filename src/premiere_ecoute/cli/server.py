"""serve, worker, migrate."""

from __future__ import annotations

import asyncio
import signal

import typer

from premiere_ecoute.cli.common import container, fail, settings


def serve(
    host: str = typer.Option(None, help="Interface to listen on (default HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default PORT or 8000)"),
    demo: bool = typer.Option(
        None, help="Seed demo data on an empty database (default: on in development)"
    ),
) -> None:
    """Run the web app. In development it also runs the worker and the built-in fakes."""
    import uvicorn

    from premiere_ecoute.bootstrap import build
    from premiere_ecoute.core import migrations
    from premiere_ecoute.telemetry.logging import configure_logging
    from premiere_ecoute.web.app import create_app

    s = settings()
    configure_logging(s.log_level, s.log_json)
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
    if demo if demo is not None else s.environment == "development":
        from premiere_ecoute.demo import seed_if_empty

        asyncio.run(seed_if_empty(s, c.database_url))
    app = create_app(c)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )


def worker() -> None:
    """Run the job worker and the vote ingest loop (production: as many as needed)."""
    from premiere_ecoute.runtime import ingest_loop, run_worker, start_chat_queue
    from premiere_ecoute.telemetry.logging import configure_logging

    s = settings()
    configure_logging(s.log_level, s.log_json)

    async def main() -> None:
        async with container(s) as c:
            await c.start()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, c.stopping.set)
            c.spawn(ingest_loop(c), "ingest")
            await start_chat_queue(c)
            work = asyncio.create_task(run_worker(c))
            await c.stopping.wait()
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)

    asyncio.run(main())


def migrate() -> None:
    """Apply database migrations (also done at every serve start)."""
    from premiere_ecoute.bootstrap import resolve_database_url
    from premiere_ecoute.core import migrations

    s = settings()
    url = resolve_database_url(s)
    try:
        migrations.upgrade(url)
    except Exception as exc:
        fail(f"migration failed: {exc}")
    typer.echo(f"database at revision {migrations.current_revision(url)}")
