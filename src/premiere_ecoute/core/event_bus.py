"""In-process event subscribers, run once a unit of work has committed.

Two kinds: per-event subscribers (``subscribe``), called for each event of a type, and batch
subscribers (``subscribe_batch``), called once per commit with all of its events, e.g. to
announce one live update per session however many events a command recorded. A failing
subscriber is logged and counted, and never undoes the committed change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

import structlog

from premiere_ecoute.core.messages import Event

log = structlog.get_logger(__name__)
Subscriber = Callable[[Event], Awaitable[None]]
BatchSubscriber = Callable[[Sequence[Event]], Awaitable[None]]


class EventDispatcher:
    def __init__(self) -> None:
        self._subs: dict[type[Event], list[Subscriber]] = defaultdict(list)
        self._batch: list[BatchSubscriber] = []
        self.failures = 0

    def subscribe(self, event_type: type[Event], fn: Subscriber) -> None:
        self._subs[event_type].append(fn)

    def subscribe_batch(self, fn: BatchSubscriber) -> None:
        self._batch.append(fn)

    async def dispatch(self, events: Sequence[Event]) -> None:
        for event in events:
            for fn in self._subs.get(type(event), ()):
                try:
                    await fn(event)
                except Exception:
                    self._failed(fn, event.type)
        if not events:
            return
        for batch_fn in self._batch:
            try:
                await batch_fn(events)
            except Exception:
                self._failed(batch_fn, "batch")

    def _failed(self, fn: object, what: str) -> None:
        self.failures += 1
        log.exception(
            "events.subscriber.failed",
            event_type=what,
            subscriber=getattr(fn, "__qualname__", repr(fn)),
        )
