"""A small in-process TTL cache (routing state, tokens). Cross-process invalidation goes
through the broker: subscribers call ``invalidate``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from premiere_ecoute.core.clock import Clock, SystemClock

V = TypeVar("V")
_MISSING = object()


class TTLCache(Generic[V]):
    def __init__(self, ttl_s: float, *, max_items: int = 10_000, clock: Clock | None = None):
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._clock = clock or SystemClock()
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if self._clock.monotonic() >= expires:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key) is not None

    def set(self, key: Hashable, value: V, ttl_s: float | None = None) -> None:
        self._items[key] = (self._clock.monotonic() + (ttl_s or self.ttl_s), value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, else ``load()``'s, kept unless it is None (a miss is not cached)."""
        value = self.get(key)
        if value is None:
            value = await load()
            if value is not None:
                self.set(key, value)
        return value
