"""Counts of open live streams add up across web processes that share a broker."""

from __future__ import annotations

import asyncio

from premiere_ecoute.core.broker import InMemoryBroker
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.web.presence import Presence


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_overlays_on_two_processes_are_counted_by_both() -> None:
    broker = InMemoryBroker()
    clock = FakeClock()
    web1 = Presence(broker, process_id="web1", clock=clock.monotonic)
    web2 = Presence(broker, process_id="web2", clock=clock.monotonic)
    try:
        await web1.change("streamer:7", "overlay", +1)
        await web2.change("streamer:7", "control", +1)  # starts web2's listener
        await _settle()
        await web2.change("streamer:7", "overlay", +1)
        await web1.change("streamer:7", "overlay", +1)
        await _settle()
        assert web1.count("streamer:7", "overlay") == 3
        assert web2.count("streamer:7", "overlay") == 3
        await web1.change("streamer:7", "overlay", -1)
        await _settle()
        assert web2.count("streamer:7", "overlay") == 2
        assert web2.count("streamer:8", "overlay") == 0
    finally:
        await web1.close()
        await web2.close()


async def test_a_process_that_stops_reporting_is_forgotten_after_the_ttl() -> None:
    broker = InMemoryBroker()
    clock = FakeClock()
    alive = Presence(broker, process_id="alive", clock=clock.monotonic, ttl_s=60)
    gone = Presence(broker, process_id="gone", clock=clock.monotonic, ttl_s=60)
    try:
        await alive.change("t", "overlay", +1)
        await _settle()
        await gone.change("t", "overlay", +1)
        await _settle()
        assert alive.count("t", "overlay") == 2
        clock.advance(61)  # "gone" crashed: no refresh came
        assert alive.count("t", "overlay") == 1
    finally:
        await alive.close()
        await gone.close()


def test_malformed_presence_messages_are_ignored() -> None:
    p = Presence(InMemoryBroker(), process_id="me")
    p.receive({"p": "other", "t": "x"})
    p.receive({"p": "other", "t": "x", "k": "overlay", "n": "many"})
    assert p.count("x", "overlay") == 0
