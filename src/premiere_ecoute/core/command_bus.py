"""Command bus: validate -> handle inside a unit of work -> commit (which dispatches events).

A failed command rolls back and its typed error reaches the caller unchanged."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from premiere_ecoute.core.clock import Clock
from premiere_ecoute.core.event_bus import EventDispatcher
from premiere_ecoute.core.event_store import EventStore
from premiere_ecoute.core.messages import Command
from premiere_ecoute.core.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)
C = TypeVar("C", bound=Command)
Handler = Callable[[Any, UnitOfWork], Awaitable[Any]]


class CommandBus:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: EventStore,
        dispatcher: EventDispatcher,
        clock: Clock,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._store = store
        self.dispatcher = dispatcher
        self._clock = clock
        self._handlers: dict[type[Command], Handler] = {}

    def register(
        self, command_type: type[C], handler: Callable[[C, UnitOfWork], Awaitable[Any]]
    ) -> None:
        if command_type in self._handlers:
            raise ValueError(f"{command_type.__name__} already has a handler")
        self._handlers[command_type] = handler

    def unit_of_work(self, **meta: Any) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker, self._store, self._clock, self.dispatcher, meta)

    async def execute(
        self, command: Command, *, actor: str | None = None, correlation_id: str | None = None
    ) -> Any:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        command.validate()
        meta = {
            "actor": actor,
            "correlation_id": correlation_id or uuid.uuid4().hex,
            "command": type(command).__name__,
        }
        started = time.perf_counter()
        uow = self.unit_of_work(**meta)
        try:
            async with uow:
                result = await handler(command, uow)
                await uow.commit()
        except Exception as exc:
            # A handler may commit a record of its failure before raising (a saga's "start
            # failed"): that commit already announced itself.
            log.info(
                "bus.command.failed",
                command=type(command).__name__,
                error=type(exc).__name__,
                message=str(exc)[:200],
            )
            raise
        log.debug(
            "bus.command.done",
            command=type(command).__name__,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return result
