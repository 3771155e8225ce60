"""One contract, three brokers: in-memory, PostgreSQL LISTEN/NOTIFY, Redis."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from premiere_ecoute.core.broker import InMemoryBroker, PostgresBroker, RedisBroker, channel_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_available() -> bool:
    host_port = REDIS_URL.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port or 6379)), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "postgres", "redis"])
async def broker_pair(request: Any, database_url: str) -> AsyncIterator[tuple[Any, Any]]:
    """Two brokers as two processes would hold them (the in-memory one is shared)."""
    kind = request.param
    if kind == "memory":
        b = InMemoryBroker()
        yield b, b
        return
    if kind == "redis" and not _redis_available():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    make = (
        (lambda: PostgresBroker(database_url))
        if kind == "postgres"
        else (lambda: RedisBroker(REDIS_URL))
    )
    a, b = make(), make()
    await a.start()
    await b.start()
    await asyncio.sleep(0.05)
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


async def test_a_message_reaches_every_subscriber_of_its_topic_only(broker_pair: Any) -> None:
    publisher, other = broker_pair
    mine = other.subscribe("session:1")
    also_mine = publisher.subscribe("session:1")
    not_mine = other.subscribe("session:2")
    await asyncio.sleep(0.05)
    await publisher.publish("session:1", {"n": 1})
    assert await mine.get(timeout=3) == {"n": 1}
    assert await also_mine.get(timeout=3) == {"n": 1}
    with pytest.raises(TimeoutError):
        await not_mine.get(timeout=0.2)


async def test_identical_messages_are_all_delivered_in_order(broker_pair: Any) -> None:
    publisher, other = broker_pair
    sub = other.subscribe("t")
    await asyncio.sleep(0.05)
    for _ in range(3):
        await publisher.publish("t", {"same": True})
    await publisher.publish("t", {"last": True})
    got = [await sub.get(timeout=3) for _ in range(4)]
    assert got == [{"same": True}] * 3 + [{"last": True}]


async def test_closed_subscription_receives_nothing_more(broker_pair: Any) -> None:
    publisher, other = broker_pair
    gone = other.subscribe("gone")
    kept = other.subscribe("gone")
    await asyncio.sleep(0.05)
    gone.close()
    await publisher.publish("gone", {"after": "close"})
    assert await kept.get(timeout=3) == {"after": "close"}
    assert gone.queue.empty()
    kept.close()


async def test_oversized_payload_is_refused_clearly(broker_pair: Any) -> None:
    publisher, _ = broker_pair
    with pytest.raises(ValueError, match="too large"):
        await publisher.publish("big", {"x": "y" * 9000})


async def test_postgres_broker_tells_subscribers_to_resync_after_a_lost_connection(
    database_url: str,
) -> None:
    import psycopg

    broker = PostgresBroker(database_url)
    await broker.start()
    sub = broker.subscribe("session:1")
    try:
        # The server drops our LISTEN connection (a restart, a network cut).
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
        assert await sub.get(timeout=10) == {"resync": True}
        await broker.publish("session:1", {"after": True})
        assert await sub.get(timeout=5) == {"after": True}
    finally:
        sub.close()
        await broker.stop()


async def test_two_instances_on_one_redis_server_have_channels_of_their_own(
    database_url: str,
) -> None:
    """Redis pub/sub ignores database numbers: each instance's channel carries its name."""
    if not _redis_available():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    one = RedisBroker(REDIS_URL, channel_for(None, "postgresql://pg:5432/instance_one"))
    two = RedisBroker(REDIS_URL, channel_for(None, "postgresql://pg:5432/instance_two"))
    same = RedisBroker(REDIS_URL, channel_for(None, "postgresql://pg:5432/instance_one"))
    named = RedisBroker(REDIS_URL, channel_for("staging", "postgresql://pg:5432/instance_one"))
    for broker in (one, two, same, named):
        await broker.start()
    try:
        heard = {name: b.subscribe("session:1") for name, b in [("two", two), ("same", same)]}
        heard["named"] = named.subscribe("session:1")
        await asyncio.sleep(0.1)
        await one.publish("session:1", {"n": 1})
        assert await heard["same"].get(timeout=2) == {"n": 1}
        await asyncio.sleep(0.2)
        assert heard["two"].queue.empty() and heard["named"].queue.empty()
    finally:
        for broker in (one, two, same, named):
            await broker.stop()
    assert one.channel == "premiere_ecoute:instance_one@pg:5432" != two.channel
    assert named.channel == "premiere_ecoute:staging"
