"""Inbox: external messages (webhooks, WebSocket frames) stored once by (source, external id)
before they are acknowledged, then processed in batches by their consumer."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    Index,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.orm import Base

log = structlog.get_logger(__name__)
KEEP_PROCESSED = dt.timedelta(days=7)


class InboxRow(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_inbox_source_external_id"),
        Index("ix_inbox_pending", "id", postgresql_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sent_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))


@dataclass(frozen=True, slots=True)
class InboxMessage:
    source: str
    external_id: str
    kind: str
    payload: dict[str, Any]
    sent_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingMessage:
    id: int
    source: str
    external_id: str
    kind: str
    payload: dict[str, Any]
    sent_at: dt.datetime | None


class Inbox:
    async def store(
        self, session: AsyncSession, messages: Sequence[InboxMessage]
    ) -> set[tuple[str, str]]:
        """Insert; a message already stored is ignored. Returns the (source, external id) of
        the new ones."""
        unique: dict[tuple[str, str], InboxMessage] = {}
        for m in messages:
            unique.setdefault((m.source, m.external_id), m)
        if not unique:
            return set()
        kept = list(unique.values())
        # One statement whatever the batch size: the rows travel as one JSON document
        # (encoding it is one C call; arrays of text would be escaped value by value).
        rows = json.dumps(
            [
                {
                    "source": m.source,
                    "external_id": m.external_id,
                    "kind": m.kind,
                    "payload": m.payload,
                    "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                }
                for m in kept
            ],
            separators=(",", ":"),
        )
        result = await session.execute(_STORE, {"rows": rows})
        return {(source, external_id) for source, external_id in result}

    async def claim(self, session: AsyncSession, limit: int = 500) -> list[PendingMessage]:
        """Lock a batch of unprocessed messages (skipping ones another process holds)."""
        # Plain rows, not ORM objects: this runs for every batch of the hot path.
        rows = await session.execute(
            select(
                InboxRow.id,
                InboxRow.source,
                InboxRow.external_id,
                InboxRow.kind,
                InboxRow.payload,
                InboxRow.sent_at,
            )
            .where(InboxRow.processed_at.is_(None))
            .order_by(InboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [PendingMessage(*r) for r in rows.all()]

    async def mark_done(
        self, session: AsyncSession, ids: Sequence[int], errors: dict[int, str] | None = None
    ) -> None:
        """Mark processed. The ``text`` of a processed message is dropped (what counts, the
        vote, is stored elsewhere), unless processing failed and an operator may need it; the
        rest of the row stays until the weekly pruning, to recognise redeliveries."""
        if not ids:
            return
        errors = errors or {}
        cleared = [row_id for row_id in ids if row_id not in errors]
        if cleared:
            await session.execute(_DONE, {"ids": cleared})
        for row_id, err in errors.items():
            await session.execute(
                update(InboxRow)
                .where(InboxRow.id == row_id)
                .values(processed_at=func.now(), error=err[:500])
            )

    async def prune(self, session: AsyncSession, keep: dt.timedelta = KEEP_PROCESSED) -> int:
        """Delete processed rows older than ``keep`` (long enough to recognise any
        redelivery); returns how many."""
        result = await session.execute(
            delete(InboxRow).where(InboxRow.processed_at < func.now() - keep)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def pending_count(self, session: AsyncSession) -> int:
        n = await session.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.processed_at.is_(None))
        )
        return int(n or 0)


_STORE = text(
    "INSERT INTO inbox (source, external_id, kind, payload, sent_at)"
    " SELECT r.source, r.external_id, r.kind, r.payload, r.sent_at"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(source varchar, external_id varchar,"
    " kind varchar, payload jsonb, sent_at timestamptz)"
    " ON CONFLICT ON CONSTRAINT uq_inbox_source_external_id DO NOTHING"
    " RETURNING source, external_id"
)
# A processed chat line keeps who sent it (redelivery checks and erasure need it), not what.
_DONE = text(
    "UPDATE inbox SET processed_at = now(), payload = payload - 'text' WHERE id = ANY(:ids)"
)


class GroupCommitWriter:
    """Stores inbox messages for concurrent requests in shared transactions.

    A request awaits ``store``; the writer task waits ``window_s`` after the first request,
    takes whatever arrived meanwhile and during the previous commit (up to ``max_batch``),
    inserts it in one transaction and releases every waiting request
    once that commit is durable. One commit per row caps near a few thousand rows/s; shared
    commits reach tens of thousands."""

    def __init__(
        self,
        sessionmaker: Any,
        inbox: Inbox,
        *,
        window_s: float = 0.001,
        max_batch: int = 500,
        on_commit: Any = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._inbox = inbox
        self._window_s = window_s
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: asyncio.Queue[tuple[InboxMessage, asyncio.Future[bool]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._waking: asyncio.Task[None] | None = None

    async def store(self, message: InboxMessage) -> bool:
        """Returns True when the message was new, False for a redelivery."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="inbox.writer")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((message, future))
        return await future

    async def _run(self) -> None:
        while True:
            # Whatever waits now goes in one commit: while a commit is under way the next
            # requests queue up, so batches grow with the load without a fixed delay.
            batch = [await self._queue.get()]
            if self._window_s:
                await asyncio.sleep(self._window_s)
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                new_ids = await self._write([m for m, _ in batch])
            except Exception as exc:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            stored_any = bool(new_ids)
            for message, fut in batch:
                key = (message.source, message.external_id)
                if not fut.done():
                    # The same id twice in one batch: only its first request stored it.
                    fut.set_result(key in new_ids)
                new_ids.discard(key)
            if self._on_commit is not None and stored_any:
                self._wake()

    def _wake(self) -> None:
        """Tell the consumers new rows are there, beside the writing (one wake at a time:
        a wake that is still under way carries the news of this commit too)."""
        if self._waking is not None and not self._waking.done():
            return
        self._waking = asyncio.create_task(self._wake_once(), name="inbox.wake")

    async def _wake_once(self) -> None:
        assert self._on_commit is not None
        try:
            await self._on_commit()
        except Exception:
            # Waking the ingest is best effort: it also polls on its own.
            log.warning("inbox.wake_failed", exc_info=True)

    async def _write(self, messages: list[InboxMessage]) -> set[tuple[str, str]]:
        async with self._sessionmaker() as session, session.begin():
            return await self._inbox.store(session, messages)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Requests still waiting get an answer: not stored (Twitch will deliver again).
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(RuntimeError("the inbox writer is shutting down"))
