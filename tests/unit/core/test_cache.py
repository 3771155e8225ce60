from __future__ import annotations

from premiere_ecoute.core.cache import TTLCache
from premiere_ecoute.core.clock import FakeClock


def test_value_lives_until_its_ttl_then_disappears() -> None:
    clock = FakeClock()
    cache: TTLCache[str] = TTLCache(ttl_s=10, clock=clock)
    cache.set("k", "v")
    clock.advance(9.9)
    assert cache.get("k") == "v"
    clock.advance(0.2)
    assert cache.get("k") is None
    assert "k" not in cache


def test_per_item_ttl() -> None:
    clock = FakeClock()
    cache: TTLCache[int] = TTLCache(ttl_s=10, clock=clock)
    cache.set("short", 1, ttl_s=1)
    cache.set("long", 2)
    clock.advance(2)
    assert cache.get("short") is None and cache.get("long") == 2
    clock.advance(9)
    assert cache.get("long") is None


def test_oldest_entries_are_evicted_beyond_capacity() -> None:
    cache: TTLCache[int] = TTLCache(ttl_s=60, max_items=2, clock=FakeClock())
    cache.set(1, 1)
    cache.set(2, 2)
    cache.get(1)  # 1 is now the most recently used
    cache.set(3, 3)
    assert cache.get(2) is None and cache.get(1) == 1 and cache.get(3) == 3


async def test_get_or_load_loads_once_while_fresh() -> None:
    clock = FakeClock()
    cache: TTLCache[str] = TTLCache(ttl_s=5, clock=clock)
    loads: list[int] = []

    async def load() -> str:
        loads.append(1)
        return f"value{len(loads)}"

    assert await cache.get_or_load("k", load) == "value1"
    assert await cache.get_or_load("k", load) == "value1"
    clock.advance(6)
    assert await cache.get_or_load("k", load) == "value2"
