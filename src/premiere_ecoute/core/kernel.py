"""The kernel that every layer above may lean on: settings, clock, database, event log,
inbox, command bus, broker and metrics, plus the process's stop signal and its background
tasks. ``bootstrap`` builds it once per process; it is typed, so a missing piece is a mypy
error rather than a KeyError at run time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from premiere_ecoute.config import Settings
from premiere_ecoute.core.broker import Broker
from premiere_ecoute.core.clock import Clock
from premiere_ecoute.core.command_bus import CommandBus
from premiere_ecoute.core.db import Database
from premiere_ecoute.core.event_bus import EventDispatcher
from premiere_ecoute.core.event_store import EventStore
from premiere_ecoute.core.inbox import Inbox
from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.telemetry.metrics import Metrics


@dataclass
class Kernel:
    settings: Settings
    clock: Clock
    db: Database
    store: EventStore
    inbox: Inbox
    dispatcher: EventDispatcher
    bus: CommandBus
    broker: Broker
    metrics: Metrics
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    background: list[asyncio.Task[Any]] = field(default_factory=list)

    def unit_of_work(self, **meta: Any) -> UnitOfWork:
        """A unit of work outside the command bus (ingest batches, monitors, jobs): its
        commit logs and announces its events like a command's."""
        return UnitOfWork(self.db.sessionmaker, self.store, self.clock, self.dispatcher, meta)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` until it ends or the process stops (then it is cancelled)."""
        task = asyncio.create_task(coro, name=name)
        self.background.append(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        if task in self.background:
            self.background.remove(task)

    async def stop_background(self) -> None:
        self.stopping.set()
        tasks = list(self.background)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.background.clear()
