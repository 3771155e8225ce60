"""Cross-process mutual exclusion with PostgreSQL advisory locks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from premiere_ecoute.core.errors import Conflict, refuse

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
            raise refuse(Conflict, busy)
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:n, :k)"), params)
            await conn.commit()


class LockHolder:
    """Session-level advisory locks (namespace, key) held on one dedicated connection: each
    lock lasts until released or until the connection dies, which frees them all at once."""

    def __init__(self, conn: AsyncConnection[Any], namespace: int) -> None:
        self.conn = conn
        self.namespace = namespace

    @property
    def alive(self) -> bool:
        return not (self.conn.closed or self.conn.broken)

    async def try_lock(self, key: int) -> bool:
        cur = await self.conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (self.namespace, key % INT4)
        )
        row = await cur.fetchone()
        return bool(row and row[0])

    async def unlock(self, key: int) -> None:
        await self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self.namespace, key % INT4))

    async def unlock_all(self) -> None:
        await self.conn.execute("SELECT pg_advisory_unlock_all()")

    async def ping(self) -> None:
        await self.conn.execute("SELECT true")

    async def close(self) -> None:
        await self.conn.close()

    @classmethod
    async def connect(cls, url: str, namespace: int) -> LockHolder:
        return cls(await AsyncConnection.connect(url, autocommit=True), namespace)
