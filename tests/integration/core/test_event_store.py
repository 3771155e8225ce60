"""The event log: optimistic concurrency, global order, durable subscribers."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from premiere_ecoute.core.errors import Conflict
from premiere_ecoute.core.event_store import (
    NewEvent,
)


def _ev(stream: str, n: int) -> NewEvent:
    return NewEvent(stream, "Thing", {"n": n}, dt.datetime.now(dt.UTC), {"actor": "test"})


async def _append(
    c: Any, events: list[NewEvent], expected: dict[str, int] | None = None
) -> list[int]:
    async with c.db.sessionmaker() as s, s.begin():
        return await c.store.append(s, events, expected)


async def test_versions_follow_each_other_per_stream_and_positions_are_global(
    container: Any,
) -> None:
    await _append(container, [_ev("a", 1), _ev("a", 2), _ev("b", 1)])
    await _append(container, [_ev("a", 3)])
    async with container.db.session() as s:
        a = await container.store.read_stream(s, "a")
        everything = await container.store.read_all(s)
    assert [e.version for e in a] == [1, 2, 3]
    assert [e.payload["n"] for e in a] == [1, 2, 3]
    positions = [e.position for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == 4


async def test_two_writers_on_the_same_expected_version_give_one_conflict(container: Any) -> None:
    await _append(container, [_ev("s", 1)])
    results = await asyncio.gather(
        _append(container, [_ev("s", 2)], {"s": 1}),
        _append(container, [_ev("s", 2)], {"s": 1}),
        return_exceptions=True,
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1
    async with container.db.session() as s:
        assert [e.version for e in await container.store.read_stream(s, "s")] == [1, 2]


async def test_a_stale_expected_version_is_a_conflict_and_appends_nothing(
    container: Any,
) -> None:
    await _append(container, [_ev("x", 1), _ev("x", 2)])
    with pytest.raises(Conflict, match="at version 2, expected 1"):
        await _append(container, [_ev("x", 9)], {"x": 1})
    async with container.db.session() as s:
        assert [e.payload["n"] for e in await container.store.read_stream(s, "x")] == [1, 2]
