"""In-process event subscribers, run after commit (live updates, cache invalidation).

Whatever must not be missed is a durable subscriber of the event log instead: a failing
in-process subscriber is logged and counted, and never undoes the committed command."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

import structlog

from premiere_ecoute.core.messages import Event

log = structlog.get_logger(__name__)
Subscriber = Callable[[Event], Awaitable[None]]


class EventDispatcher:
    def __init__(self) -> None:
        self._subs: dict[type[Event], list[Subscriber]] = defaultdict(list)
        self._all: list[Subscriber] = []
        self.failures = 0

    def subscribe(self, event_type: type[Event] | None, fn: Subscriber) -> None:
        if event_type is None:
            self._all.append(fn)
        else:
            self._subs[event_type].append(fn)

    async def dispatch(self, events: Sequence[Event]) -> None:
        for event in events:
            for fn in [*self._subs.get(type(event), ()), *self._all]:
                try:
                    await fn(event)
                except Exception:
                    self.failures += 1
                    log.exception(
                        "events.subscriber.failed",
                        event_type=event.type,
                        subscriber=getattr(fn, "__qualname__", repr(fn)),
                    )
