"""Cross-process mutual exclusion with PostgreSQL advisory locks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from premiere_ecoute.core.errors import Conflict

INT4 = 2_147_483_647


@asynccontextmanager
async def exclusive(
    engine: AsyncEngine, namespace: int, key: int, busy: str
) -> AsyncIterator[None]:
    """Hold the lock (namespace, key) on a connection of its own for the block; raise
    ``Conflict(busy)`` at once when another connection, in any process, holds it."""
    params = {"n": namespace, "k": key % INT4}
    async with engine.connect() as conn:
        got = await conn.scalar(text("SELECT pg_try_advisory_lock(:n, :k)"), params)
        await conn.commit()
        if not got:
            raise Conflict(busy)
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:n, :k)"), params)
            await conn.commit()
