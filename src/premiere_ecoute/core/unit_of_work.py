"""Unit of work: one transaction; collects events, appends the logged ones to the event log
on commit, then hands all of them to the dispatcher.

Rolls back unless committed. Whatever happens after a change (live updates, chat
announcements, waking other processes) leaves from ``commit`` and only once the change is
durable: this is the one place that announces changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from premiere_ecoute.core.clock import Clock
from premiere_ecoute.core.event_bus import EventDispatcher
from premiere_ecoute.core.event_store import EventStore, NewEvent
from premiere_ecoute.core.messages import Event

AfterCommit = Callable[[], Awaitable[None] | None]


class UnitOfWork:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: EventStore,
        clock: Clock,
        dispatcher: EventDispatcher,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.store = store
        self.clock = clock
        self._dispatcher = dispatcher
        self.meta = dict(meta or {})
        self._session: AsyncSession | None = None
        self.pending: list[Event] = []
        self.expected_versions: dict[str, int] = {}
        self._flushed: list[Event] = []
        self.committed: list[Event] = []
        self._after_commit: list[AfterCommit] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessionmaker()
        await self._session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            if self._session.in_transaction():
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    def record(self, event: Event, *, expected_version: int | None = None) -> None:
        self.pending.append(event)
        if expected_version is not None:
            self.expected_versions.setdefault(event.stream, expected_version)

    def after_commit(self, fn: AfterCommit) -> None:
        """Run ``fn`` once the change is committed (before subscribers hear of it)."""
        self._after_commit.append(fn)

    async def flush_events(self) -> None:
        """Append the collected logged events to the log now (still inside the transaction)."""
        if not self.pending:
            return
        now = self.clock.now()
        logged = [e for e in self.pending if e.logged]
        await self.store.append(
            self.session,
            [NewEvent(e.stream, e.type, e.payload(), now, self.meta) for e in logged],
            self.expected_versions,
        )
        self._flushed.extend(self.pending)
        self.pending = []
        self.expected_versions = {}

    async def commit(self) -> None:
        await self.flush_events()
        await self.session.commit()
        # Only now are they facts: a failed commit leaves nothing to announce.
        events, self._flushed = self._flushed, []
        self.committed.extend(events)
        callbacks, self._after_commit = self._after_commit, []
        for fn in callbacks:
            result = fn()
            if result is not None:
                await result
        await self._dispatcher.dispatch(events)

    async def rollback(self) -> None:
        await self.session.rollback()
        self.pending = []
        self._flushed = []
        self._after_commit = []
