"""Two web processes and a worker on one database, with each broker: live updates cross
processes, and votes split across the web processes are each counted once (issue 10). Also:
two instances on one Redis server stay apart (finding 8), and several processes with the fakes
raise no spurious "subscription restored" notice (finding 9)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.faults.support import (
    Api,
    Chat,
    Ledger,
    SseReader,
    Stack,
    Web,
    burst,
    jobs_succeeded_since,
    redeliver_conflicting,
    session_votes,
    stack_on,
    start_all,
    wait_counted,
    wait_until,
    web_user,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
VOTES = 1000


@dataclass
class Instance:
    """Web processes A and B and a worker on one database, streamer A's session running."""

    stack: Stack
    a: Web
    b: Web
    api_a: Api
    api_b: Api
    session_id: int
    started: datetime


def _instance(stack: Stack) -> Instance:
    a, b = stack.web("a"), stack.web("b")
    start_all(a, b, stack.worker(base_url=a.base))
    token = web_user(a.base, "streamera")
    api_a, api_b = Api(a.base, token), Api(b.base, token)
    started = datetime.now(UTC)
    return Instance(stack, a, b, api_a, api_b, api_a.running_session(), started)


@pytest.fixture(scope="module")
def postgres_instance(server_url: str) -> Iterator[Instance]:
    """Module-wide: the last test of the module looks at what its worker did meanwhile."""
    with stack_on(server_url) as stack:
        yield _instance(stack)


@pytest.mark.parametrize("broker", ["postgres", "redis"])
def test_two_web_processes_and_a_worker_share_live_updates_and_count_each_vote_once(
    broker: str, make_stack: Callable[..., Stack], request: pytest.FixtureRequest
) -> None:
    if broker == "postgres":
        it: Instance = request.getfixturevalue("postgres_instance")
    else:
        it = _instance(make_stack(REDIS_URL=request.getfixturevalue("redis_url")()))
    a, b, session_id = it.a, it.b, it.session_id
    chat = Chat(it.api_a.me()["twitch_user_id"], "streamera")
    streams: list[Any] = [
        SseReader(f"{b.base}/api/v1/sessions/{session_id}/stream", it.api_b.headers),
        SseReader(f"{b.base}/overlay/streamera/stream"),
        SseReader(f"{a.base}/api/v1/sessions/{session_id}/stream", it.api_a.headers),
    ]
    try:
        for stream in streams:
            stream.wait(lambda e: session_votes(e) == 0, timeout=15)
        ledger = Ledger()
        asyncio.run(burst(lambda i: f"{a.base}/webhooks/twitch", chat, [chat.vote(0)], ledger))
        assert ledger.acked, ledger.answers
        # Every stream shows it: at least one of them learnt it from another process.
        for stream in streams:
            stream.wait(lambda e: (session_votes(e) or 0) >= 1, timeout=15)
    finally:
        for stream in streams:
            stream.close()

    webs = [a.base, b.base]
    votes = chat.votes(VOTES, start=1)
    asyncio.run(burst(lambda i: f"{webs[i % 2]}/webhooks/twitch", chat, votes, ledger))
    answers = ledger.answer_counts()
    assert answers == {"204": VOTES + 1}, answers
    expected = ledger.expected_distribution()
    counted = wait_counted(it.api_b, session_id, expected, timeout=90)
    print(f"{broker}: acknowledged {len(ledger.acked)}, counted {counted.total()}")
    assert counted == expected

    urls = [f"{w}/webhooks/twitch" for w in webs]
    replayed = asyncio.run(redeliver_conflicting(urls, chat, ledger, sample=100))
    assert replayed == {"204": 100}
    assert wait_counted(it.api_a, session_id, expected, timeout=30) == expected
    replay = it.stack.cli("events", "replay", "--session", str(session_id))
    assert replay.returncode == 0, replay.stdout + replay.stderr


def test_two_instances_on_one_redis_server_do_not_see_each_others_messages(
    make_stack: Callable[..., Stack], redis_url: Callable[[], str]
) -> None:
    """Two instances, each with its own database and its own Redis database number on one
    Redis server. Their first sessions have the same id, so a message of one on a shared
    channel would wake the other's stream."""
    one, two = make_stack(REDIS_URL=redis_url()), make_stack(REDIS_URL=redis_url())
    x, y = one.web("x"), two.web("y")
    # Outside development the web processes only acknowledge: a worker each ingests.
    start_all(x, y, one.worker(base_url=x.base), two.worker(base_url=y.base))
    api_x = Api(x.base, web_user(x.base, "streamera"))
    api_y = Api(y.base, web_user(y.base, "streamera"))
    sid_x, sid_y = api_x.running_session(), api_y.running_session()
    assert sid_x == sid_y and api_x.me()["id"] == api_y.me()["id"], "no colliding ids to test"
    chat_x = Chat(api_x.me()["twitch_user_id"], "streamera")
    chat_y = Chat(api_y.me()["twitch_user_id"], "streamera")
    stream = SseReader(f"{y.base}/api/v1/sessions/{sid_y}/stream", api_y.headers)
    try:
        stream.wait(lambda e: e.event == "snapshot", timeout=15)
        quiet_since = len(stream.events)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # let its own presence announcements pass
            time.sleep(1.5)
            if len(stream.events) == quiet_since:
                break
            quiet_since = len(stream.events)
        ledger = Ledger()
        votes = chat_x.votes(20)
        asyncio.run(burst(lambda i: f"{x.base}/webhooks/twitch", chat_x, votes, ledger))
        assert ledger.answer_counts() == {"204": 20}
        wait_counted(api_x, sid_x, ledger.expected_distribution(), timeout=30)
        time.sleep(1)
        foreign = [e for e in stream.events[quiet_since:] if e.event == "update"]
        # The stream itself works: a vote of its own instance shows.
        mine = Ledger()
        asyncio.run(burst(lambda i: f"{y.base}/webhooks/twitch", chat_y, [chat_y.vote(0)], mine))
        stream.wait(lambda e: (session_votes(e) or 0) >= 1, timeout=15)
    finally:
        stream.close()
    assert not foreign, f"{len(foreign)} updates on Y's stream caused by X's votes"


def test_no_spurious_restore_notice_with_the_fakes_in_several_processes(
    postgres_instance: Instance,
) -> None:
    """Last of the module, so the worker's minute job has usually run already. serve and the
    worker each hold a fake Twitch of their own: the worker must not take the web process's
    subscriptions for lost and warn the streamer."""
    it = postgres_instance
    wait_until(
        lambda: "restore_eventsub" in jobs_succeeded_since(it.stack.database_url, it.started),
        75,
        step=1.0,
        what="the worker's restore_eventsub job",
    )
    time.sleep(1)
    detail = it.api_a.get(f"/api/v1/sessions/{it.session_id}").json()
    assert detail.get("notice") in (None, ""), json.dumps(detail.get("notice"))
