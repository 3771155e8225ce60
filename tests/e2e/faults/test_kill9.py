"""kill -9 of a web process and of the worker in the middle of a burst of chat votes: every
vote answered 204 is counted exactly once after the restart, and redeliveries (the same
message id again, as Twitch does) are not counted again (issue 10)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable

import pytest

from tests.e2e.faults.support import (
    Api,
    Chat,
    Ledger,
    Stack,
    burst,
    redeliver_conflicting,
    redeliver_unacked,
    start_all,
    wait_counted,
    web_user,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
VOTES = 600
KILL_AT = 150


@pytest.mark.parametrize("victim", ["web", "worker"])
def test_kill_9_mid_burst_loses_no_acknowledged_vote_and_counts_none_twice(
    victim: str, make_stack: Callable[..., Stack]
) -> None:
    stack = make_stack()
    a, b = stack.web("a"), stack.web("b")
    worker = stack.worker(base_url=a.base)
    start_all(a, b, worker)
    token = web_user(a.base, "streamera")
    api = Api(b.base, token)
    session_id = api.running_session()
    chat = Chat(api.me()["twitch_user_id"], "streamera")
    process = a if victim == "web" else worker
    restarted = threading.Event()

    def restart() -> None:
        process.start()
        restarted.set()

    async def fault(i: int) -> None:
        if i == KILL_AT:
            process.stop(signal.SIGKILL)  # to its process group: no clean-up of any kind
            threading.Thread(target=restart, daemon=True).start()

    ledger = Ledger()
    webs = [a.base, b.base]
    asyncio.run(
        burst(
            lambda i: f"{webs[i % 2]}/webhooks/twitch",
            chat,
            chat.votes(VOTES),
            ledger,
            concurrency=8,
            rate=150,
            on_sent=fault,
        )
    )
    assert restarted.wait(60), f"{victim} did not come back:\n{stack.logs()}"
    answers = ledger.answer_counts()
    acked_in_burst = ledger.expected_distribution()
    # Nothing answered 204 is lost, before any redelivery could hide it.
    counted = wait_counted(api, session_id, acked_in_burst, timeout=60)
    lost = acked_in_burst - counted
    print(
        f"kill -9 {victim}: answers {dict(answers)}, acknowledged {len(ledger.acked)}, "
        f"counted {sum(counted.values())} before redelivery"
    )
    assert not lost, f"acknowledged votes not counted: {dict(lost)}"

    urls = [f"{w}/webhooks/twitch" for w in webs]
    asyncio.run(redeliver_unacked(urls, chat, ledger))
    assert len(ledger.acked) == VOTES
    replayed = asyncio.run(redeliver_conflicting(urls, chat, ledger, sample=100))
    assert replayed == {"204": 100}
    expected = ledger.expected_distribution()
    counted = wait_counted(api, session_id, expected, timeout=60)
    print(
        f"kill -9 {victim}: after redelivery acknowledged {VOTES}, counted {sum(counted.values())}"
    )
    assert counted == expected
    replay = stack.cli("events", "replay", "--session", str(session_id))
    assert replay.returncode == 0, replay.stdout + replay.stderr
