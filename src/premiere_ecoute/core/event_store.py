"""Append-only event log: (stream, version) unique for optimistic concurrency, and a global
position that orders the log for the admin's browser and the data export.

Appends take no global lock: concurrent appends to different streams commit independently,
so a position may become visible after a higher one. Nothing reads the log as a queue by
position (replay reads a stream by version); a reader that one day must not miss an event
has to take that into account (for example a per-stream cursor, or a lag window).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Index, String, UniqueConstraint, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.errors import N_, Conflict, refuse
from premiere_ecoute.core.orm import Base


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


_APPEND = text(
    "INSERT INTO events (stream, version, type, payload, metadata, occurred_at)"
    " SELECT :stream, last.version + e.n, e.type, e.payload, e.meta, e.at"
    " FROM (SELECT coalesce(CAST(:base AS bigint),"
    " (SELECT coalesce(max(version), 0) FROM events WHERE stream = :stream)) AS version)"
    " AS last,"
    " jsonb_to_recordset(CAST(:rows AS jsonb))"
    " AS e(n bigint, type varchar, payload jsonb, meta jsonb, at timestamptz)"
    " ORDER BY e.n RETURNING version, position"
)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


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
        by_stream: dict[str, list[NewEvent]] = {}
        for ev in events:
            by_stream.setdefault(ev.stream, []).append(ev)
        positions: dict[int, int] = {}  # id of the NewEvent -> its position
        for stream, batch in by_stream.items():
            expected = (expected_versions or {}).get(stream)
            if expected is not None:
                current = await self.current_version(session, stream)
                if expected != current:
                    raise refuse(
                        Conflict,
                        N_("stream %(stream)s is at version %(current)s, expected %(expected)s"),
                        stream=stream,
                        current=current,
                        expected=expected,
                    )
            try:
                # One statement per stream whatever the batch size: the events travel as
                # arrays and take the versions after the stream's last one.
                result = await session.execute(
                    _APPEND,
                    {
                        "stream": stream,
                        # With an expected version the versions follow it, so a writer that
                        # appended meanwhile makes this insert collide (a Conflict).
                        "base": expected,
                        "rows": _json(
                            [
                                {
                                    "n": n,
                                    "type": e.type,
                                    "payload": e.payload,
                                    "meta": e.meta,
                                    "at": e.occurred_at.isoformat(),
                                }
                                for n, e in enumerate(batch, 1)
                            ]
                        ),
                    },
                )
            except IntegrityError as exc:
                raise refuse(Conflict, N_("concurrent append to the same stream version")) from exc
            ordered = sorted(result.all())  # by version: the events' order in the batch
            for ev, (_version, position) in zip(batch, ordered, strict=True):
                positions[id(ev)] = position
        return [positions[id(ev)] for ev in events]

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
