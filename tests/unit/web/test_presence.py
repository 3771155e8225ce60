"""Counts of open live streams add up across web processes that share a broker, and a crowd
arriving costs a few broker messages, not one per viewer."""

from __future__ import annotations

import asyncio
from typing import Any

from premiere_ecoute.core.broker import InMemoryBroker
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.web.presence import TOPIC, Presence


async def _settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)


def _presence(broker: Any, name: str, clock: FakeClock, **options: Any) -> Presence:
    return Presence(broker, process_id=name, clock=clock.monotonic, announce_s=0.01, **options)


async def test_overlays_on_two_processes_are_counted_by_both() -> None:
    broker = InMemoryBroker()
    clock = FakeClock()
    web1 = _presence(broker, "web1", clock)
    web2 = _presence(broker, "web2", clock)
    try:
        web1.change("streamer:7", "overlay", +1)
        web2.change("streamer:7", "control", +1)  # starts web2's listener
        await _settle()
        web2.change("streamer:7", "overlay", +1)
        web1.change("streamer:7", "overlay", +1)
        await _settle()
        assert web1.count("streamer:7", "overlay") == 3
        assert web2.count("streamer:7", "overlay") == 3
        web1.change("streamer:7", "overlay", -1)
        await _settle()
        assert web2.count("streamer:7", "overlay") == 2
        assert web2.count("streamer:8", "overlay") == 0
    finally:
        await web1.close()
        await web2.close()


async def test_a_crowd_arriving_is_told_in_a_few_messages() -> None:
    broker = InMemoryBroker()
    clock = FakeClock()
    told = broker.subscribe(TOPIC)
    web1 = Presence(broker, process_id="web1", clock=clock.monotonic, announce_s=0.2)
    web2 = _presence(broker, "web2", clock)
    try:
        web2.change("streamer:1", "control", +1)
        await _settle()
        while not told.queue.empty():
            told.queue.get_nowait()
        for _ in range(1000):
            web1.change("streamer:1", "overlay", +1)
        await _settle(0.5)
        assert web2.count("streamer:1", "overlay") == 1000
        assert told.queue.qsize() <= 3
    finally:
        told.close()
        await web1.close()
        await web2.close()


async def test_a_process_that_stops_reporting_is_forgotten_after_the_ttl() -> None:
    broker = InMemoryBroker()
    clock = FakeClock()
    alive = _presence(broker, "alive", clock, ttl_s=60)
    gone = _presence(broker, "gone", clock, ttl_s=60)
    try:
        alive.change("t", "overlay", +1)
        await _settle()
        gone.change("t", "overlay", +1)
        await _settle()
        assert alive.count("t", "overlay") == 2
        clock.advance(61)  # "gone" crashed: no refresh came
        assert alive.count("t", "overlay") == 1
    finally:
        await alive.close()
        await gone.close()


def test_malformed_presence_messages_are_ignored() -> None:
    p = Presence(InMemoryBroker(), process_id="me")
    p.receive({"p": "other", "c": "x"})
    p.receive({"p": "other", "c": [["x", "overlay", "many"], ["x"], None]})
    p.receive({"c": [["x", "overlay", 3]]})
    assert p.count("x", "overlay") == 0
