"""The composition root: the only place that builds engines, clients and registries.

The web app, the worker, the CLI and the tests all call ``build``; tests pass overrides
(fake clock, in-memory broker, fake ports) instead of patching import paths."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from premiere_ecoute.config import Settings
from premiere_ecoute.core.broker import Broker, PostgresBroker, RedisBroker
from premiere_ecoute.core.clock import Clock, SystemClock
from premiere_ecoute.core.command_bus import CommandBus
from premiere_ecoute.core.db import Database, embedded_database_url
from premiere_ecoute.core.event_bus import EventDispatcher
from premiere_ecoute.core.event_store import EventStore
from premiere_ecoute.core.inbox import Inbox
from premiere_ecoute.telemetry.metrics import Metrics

log = structlog.get_logger(__name__)


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: Database
    store: EventStore
    inbox: Inbox
    dispatcher: EventDispatcher
    bus: CommandBus
    broker: Broker
    metrics: Metrics
    http: httpx.AsyncClient
    jobs: Any = None
    ports: Any = None
    services: dict[str, Any] = field(default_factory=dict)
    background: list[asyncio.Task[Any]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    started: bool = False

    @property
    def database_url(self) -> str:
        return self.db.url

    async def start(self) -> None:
        if self.started:
            return
        await self.broker.start()
        self.started = True

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self.background.append(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        if task in self.background:
            self.background.remove(task)

    async def stop(self) -> None:
        self.stopping.set()
        tasks = list(self.background)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.background.clear()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        writer = self.services.get("inbox_writer")
        if writer is not None:
            await writer.close()
        live = self.services.get("live")
        if live is not None:
            await live.close()
        fakes = self.services.get("fakes")
        if fakes is not None:
            with contextlib.suppress(Exception):
                await fakes.twitch.aclose()
        api_http = self.services.get("api_http")
        if api_http is not None and api_http is not self.http:
            await api_http.aclose()
        await self.http.aclose()
        if self.jobs is not None:
            with contextlib.suppress(Exception):
                await self.jobs.close_async()
        await self.db.dispose()
        self.started = False


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded_database_url(settings.premiere_data_dir)


def build(settings: Settings, **overrides: Any) -> Container:
    """Build every component from ``settings``; ``overrides`` replace components by name
    (``clock``, ``broker``, ``database_url``, ``http``, ``ports``...)."""
    clock: Clock = overrides.pop("clock", None) or SystemClock()
    url = overrides.pop("database_url", None) or resolve_database_url(settings)
    db = Database(url, pool_size=overrides.pop("pool_size", 10))
    store = EventStore()
    dispatcher = EventDispatcher()
    bus = CommandBus(db.sessionmaker, store, dispatcher, clock)
    broker: Broker
    if "broker" in overrides:
        broker = overrides.pop("broker")
    elif settings.redis_url:
        broker = RedisBroker(settings.redis_url)
    else:
        broker = PostgresBroker(db.url)
    http = overrides.pop("http", None) or httpx.AsyncClient(timeout=httpx.Timeout(10.0))
    container = Container(
        settings=settings,
        clock=clock,
        db=db,
        store=store,
        inbox=Inbox(),
        dispatcher=dispatcher,
        bus=bus,
        broker=broker,
        metrics=Metrics(),
        http=http,
    )
    from premiere_ecoute.jobs.queue import build_job_app

    container.jobs = build_job_app(db.url)
    from premiere_ecoute.wiring import wire

    wire(container, overrides)
    if overrides:
        log.warning("bootstrap.overrides.unused", names=sorted(overrides))
    return container
