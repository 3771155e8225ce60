"""The chat queue keeps Twitch's pace, retries, drops after the last attempt, never blocks."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from structlog.testing import capture_logs

from premiere_ecoute.apis.twitch.chat_queue import ChatQueue
from premiere_ecoute.core.clock import FakeClock
from tests.support.clock import recorded_sleep


@dataclass
class RecordingSender:
    clock: FakeClock
    failures: dict[str, int] = field(default_factory=dict)  # text -> failures left
    sent: list[tuple[float, str, str]] = field(default_factory=list)
    attempts: list[tuple[float, str]] = field(default_factory=list)

    async def __call__(self, channel: str, text: str) -> None:
        self.attempts.append((self.clock.monotonic(), text))
        if self.failures.get(text, 0) != 0:
            self.failures[text] -= 1
            raise RuntimeError("Twitch said no")
        self.sent.append((self.clock.monotonic(), channel, text))


async def drain(queue: ChatQueue) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(queue.run(stop))
    for _ in range(100_000):
        if queue.pending() == 0:
            break
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=5)


def make_queue(sender: RecordingSender, clock: FakeClock, **kwargs: object) -> ChatQueue:
    return ChatQueue(
        sender,
        clock=clock.monotonic,
        sleep=recorded_sleep(clock),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_one_channel_gets_at_most_one_message_per_second(clock: FakeClock) -> None:
    sender = RecordingSender(clock)
    queue = make_queue(sender, clock)
    for n in range(5):
        queue.enqueue("chan", f"m{n}")
    await drain(queue)
    times = [t for t, _, _ in sender.sent]
    assert [text for _, _, text in sender.sent] == ["m0", "m1", "m2", "m3", "m4"]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_different_channels_do_not_wait_for_each_other(clock: FakeClock) -> None:
    sender = RecordingSender(clock)
    queue = make_queue(sender, clock)
    start = clock.monotonic()
    for channel in ("a", "b", "c"):
        queue.enqueue(channel, "hello")
    await drain(queue)
    assert sorted(channel for _, channel, _ in sender.sent) == ["a", "b", "c"]
    assert all(t == start for t, _, _ in sender.sent)


async def test_no_more_than_twenty_messages_in_any_thirty_seconds(clock: FakeClock) -> None:
    sender = RecordingSender(clock)
    queue = make_queue(sender, clock)
    for n in range(50):
        queue.enqueue(f"chan{n % 7}", f"m{n}")
    await drain(queue)
    times = sorted(t for t, _, _ in sender.sent)
    assert len(times) == 50
    assert all(times[i + 20] - times[i] >= 30.0 for i in range(len(times) - 20))


async def test_a_failed_message_is_retried_with_growing_backoff_and_keeps_its_order(
    clock: FakeClock,
) -> None:
    sender = RecordingSender(clock, failures={"first": 2})
    queue = make_queue(sender, clock, backoff_s=1.0)
    queue.enqueue("chan", "first")
    queue.enqueue("chan", "second")
    await drain(queue)
    assert [text for _, _, text in sender.sent] == ["first", "second"]
    tries = [t for t, text in sender.attempts if text == "first"]
    assert len(tries) == 3
    assert tries[2] - tries[1] > tries[1] - tries[0] >= 1.0


async def test_a_message_is_dropped_and_logged_after_the_last_attempt(clock: FakeClock) -> None:
    sender = RecordingSender(clock, failures={"doomed": -1})
    queue = make_queue(sender, clock, max_attempts=4)
    queue.enqueue("chan", "doomed")
    queue.enqueue("chan", "fine")
    with capture_logs() as logs:
        await drain(queue)
    assert [text for _, text in sender.attempts].count("doomed") == 4
    assert [text for _, _, text in sender.sent] == ["fine"]
    dropped = [entry for entry in logs if entry["event"] == "twitch.chat.dropped"]
    assert len(dropped) == 1 and dropped[0]["broadcaster_id"] == "chan"
    assert dropped[0]["attempts"] == 4


def test_enqueue_returns_at_once_and_drops_when_full(clock: FakeClock) -> None:
    sender = RecordingSender(clock)
    queue = make_queue(sender, clock, max_pending=2)
    with capture_logs() as logs:
        for n in range(3):
            queue.enqueue("chan", f"m{n}")  # synchronous: nothing to await, nothing raised
    assert queue.pending() == 2
    assert [entry["reason"] for entry in logs if entry["event"] == "twitch.chat.dropped"] == [
        "queue_full"
    ]


async def test_stop_ends_an_idle_queue(clock: FakeClock) -> None:
    queue = make_queue(RecordingSender(clock), clock)
    stop = asyncio.Event()
    task = asyncio.create_task(queue.run(stop))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert task.done() and task.exception() is None
