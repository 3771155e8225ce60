"""The event log: optimistic concurrency, global order, durable subscribers."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from premiere_ecoute.core.errors import Conflict
from premiere_ecoute.core.event_store import (
    DurableSubscriber,
    EventStore,
    NewEvent,
    StoredEvent,
    SubscriberPosition,
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


async def _position(c: Any, name: str) -> int:
    async with c.db.session() as s:
        pos = await s.scalar(
            select(SubscriberPosition.position).where(SubscriberPosition.name == name)
        )
    return int(pos or 0)


async def test_subscriber_position_advances_with_its_work_in_one_transaction(
    container: Any,
) -> None:
    await _append(container, [_ev("p", i) for i in range(1, 6)])
    handled: list[int] = []

    async def handler(s: Any, events: list[StoredEvent]) -> None:
        handled.extend(e.payload["n"] for e in events)

    sub = DurableSubscriber("counter", handler, container.store, batch_size=3)
    async with container.db.sessionmaker() as s, s.begin():
        assert await sub.process_batch(s) == 3
    assert await _position(container, "counter") == 3
    async with container.db.sessionmaker() as s, s.begin():
        assert await sub.process_batch(s) == 2
    async with container.db.sessionmaker() as s, s.begin():
        assert await sub.process_batch(s) == 0
    assert handled == [1, 2, 3, 4, 5]


async def test_crash_mid_batch_loses_and_repeats_nothing(container: Any) -> None:
    """The handler's own writes and the position roll back together; the retry sees the
    same events once more and the total is exact."""
    from sqlalchemy import text

    async with container.db.session() as s:
        await s.execute(text("CREATE TABLE IF NOT EXISTS seen_events (n int primary key)"))
        await s.execute(text("TRUNCATE seen_events"))
        await s.commit()
    await _append(container, [_ev("q", i) for i in range(1, 8)])
    crash_on = {4}

    async def handler(s: Any, events: list[StoredEvent]) -> None:
        for e in events:
            await s.execute(text("INSERT INTO seen_events VALUES (:n)"), {"n": e.payload["n"]})
            if e.payload["n"] in crash_on:
                crash_on.clear()
                raise RuntimeError("crash in the middle of a batch")

    sub = DurableSubscriber("writer", handler, container.store, batch_size=5)
    with pytest.raises(RuntimeError):
        async with container.db.sessionmaker() as s, s.begin():
            await sub.process_batch(s)
    assert await _position(container, "writer") == 0
    for _ in range(3):
        async with container.db.sessionmaker() as s, s.begin():
            await sub.process_batch(s)
    async with container.db.session() as s:
        seen = list(await s.scalars(text("SELECT n FROM seen_events ORDER BY n")))
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert await _position(container, "writer") == 7


async def test_subscriber_filters_types_but_moves_past_the_rest(container: Any) -> None:
    other = NewEvent("t", "Other", {}, dt.datetime.now(dt.UTC), {})
    await _append(container, [_ev("t", 1), other, _ev("t", 2)])
    got: list[str] = []

    async def handler(s: Any, events: list[StoredEvent]) -> None:
        got.extend(e.type for e in events)

    sub = DurableSubscriber("typed", handler, EventStore(), types=["Thing"])
    async with container.db.sessionmaker() as s, s.begin():
        await sub.process_batch(s)
    assert got == ["Thing", "Thing"]
    assert await _position(container, "typed") == 3
