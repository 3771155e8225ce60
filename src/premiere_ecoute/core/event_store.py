"""Append-only event log: (stream, version) unique for optimistic concurrency, a global
position, and durable subscribers that store their position with their work.

Appends take a transaction-scoped advisory lock so that global positions become visible in
commit order: a subscriber reading "position > N" can never skip an event that commits late.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Index, String, UniqueConstraint, func, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.errors import Conflict
from premiere_ecoute.core.orm import Base

APPEND_LOCK_KEY = 7_301_955_001


class StoredEventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stream", "version", name="uq_events_stream_version"),
        Index("ix_events_type_position", "type", "position"),
        # Finds a deleted viewer's votes to make them anonymous (accounts.erasure).
        Index(
            "ix_events_vote_viewer",
            text("(payload ->> 'viewer_id')"),
            postgresql_where=text("type = 'VoteAccepted'"),
        ),
    )

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, server_default="{}")
    occurred_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class SubscriberPosition(Base):
    __tablename__ = "subscriber_positions"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)


_APPEND = insert(StoredEventRow).returning(StoredEventRow.position, sort_by_parameter_order=True)


@dataclass(frozen=True, slots=True)
class NewEvent:
    stream: str
    type: str
    payload: dict[str, Any]
    occurred_at: dt.datetime
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    stream: str
    version: int
    type: str
    payload: dict[str, Any]
    meta: dict[str, Any]
    occurred_at: dt.datetime


def _stored(row: StoredEventRow) -> StoredEvent:
    return StoredEvent(
        row.position, row.stream, row.version, row.type, row.payload, row.meta, row.occurred_at
    )


class EventStore:
    """Reads and appends inside the caller's session/transaction."""

    async def current_version(self, session: AsyncSession, stream: str) -> int:
        v = await session.scalar(
            select(func.coalesce(func.max(StoredEventRow.version), 0)).where(
                StoredEventRow.stream == stream
            )
        )
        return int(v or 0)

    async def append(
        self,
        session: AsyncSession,
        events: Sequence[NewEvent],
        expected_versions: dict[str, int] | None = None,
    ) -> list[int]:
        """Append ``events``; ``expected_versions[stream]`` enables optimistic concurrency.

        Raises ``Conflict`` when another writer appended to a stream in between."""
        if not events:
            return []
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK_KEY})
        next_version: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        for ev in events:
            if ev.stream not in next_version:
                current = await self.current_version(session, ev.stream)
                expected = (expected_versions or {}).get(ev.stream)
                if expected is not None and expected != current:
                    raise Conflict(
                        f"stream {ev.stream} is at version {current}, expected {expected}"
                    )
                next_version[ev.stream] = current
            next_version[ev.stream] += 1
            rows.append(
                {
                    "stream": ev.stream,
                    "version": next_version[ev.stream],
                    "type": ev.type,
                    "payload": ev.payload,
                    "meta": ev.meta,
                    "occurred_at": ev.occurred_at,
                }
            )
        try:
            # One cached statement, many parameter sets (no ORM objects on the hot path).
            result = await session.execute(_APPEND, rows)
        except IntegrityError as exc:
            raise Conflict("concurrent append to the same stream version") from exc
        return list(result.scalars())

    async def read_stream(self, session: AsyncSession, stream: str) -> list[StoredEvent]:
        rows = await session.scalars(
            select(StoredEventRow)
            .where(StoredEventRow.stream == stream)
            .order_by(StoredEventRow.version)
        )
        return [_stored(r) for r in rows]

    async def read_all(
        self,
        session: AsyncSession,
        after: int = 0,
        limit: int = 1000,
        types: Sequence[str] | None = None,
        stream_prefix: str | None = None,
    ) -> list[StoredEvent]:
        q = select(StoredEventRow).where(StoredEventRow.position > after)
        if types:
            q = q.where(StoredEventRow.type.in_(list(types)))
        if stream_prefix:
            q = q.where(StoredEventRow.stream.startswith(stream_prefix))
        rows = await session.scalars(q.order_by(StoredEventRow.position).limit(limit))
        return [_stored(r) for r in rows]


BatchHandler = Callable[[AsyncSession, list[StoredEvent]], Awaitable[None]]


class DurableSubscriber:
    """Reads the log from its stored position; its work and its new position commit together,
    so a crash mid-batch neither loses nor repeats an event."""

    def __init__(
        self,
        name: str,
        handler: BatchHandler,
        store: EventStore,
        types: Sequence[str] | None = None,
        batch_size: int = 500,
    ) -> None:
        self.name, self.handler, self.store = name, handler, store
        self.types, self.batch_size = types, batch_size

    async def process_batch(self, session: AsyncSession) -> int:
        """Process one batch in ``session``'s transaction (the caller commits). Returns count."""
        await session.execute(
            text(
                "INSERT INTO subscriber_positions (name, position) VALUES (:n, 0) "
                "ON CONFLICT (name) DO NOTHING"
            ),
            {"n": self.name},
        )
        pos = await session.scalar(
            select(SubscriberPosition.position)
            .where(SubscriberPosition.name == self.name)
            .with_for_update()
        )
        events = await self.store.read_all(session, after=int(pos or 0), limit=self.batch_size)
        if not events:
            return 0
        wanted = [e for e in events if not self.types or e.type in self.types]
        if wanted:
            await self.handler(session, wanted)
        await session.execute(
            text("UPDATE subscriber_positions SET position = :p WHERE name = :n"),
            {"p": events[-1].position, "n": self.name},
        )
        return len(wanted)
