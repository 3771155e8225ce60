"""The EventSub subscriptions of active sessions. Revocations: marked, the streamer told, renewed
while the session is active. The worker's minute job gives active sessions back the
subscriptions Twitch no longer lists: a revocation no process was left to renew, a deletion, a
failed verification."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.config import Settings
from premiere_ecoute.core.errors import ExternalServiceError
from premiere_ecoute.jobs.tasks import register_tasks
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.inbound import SubscriptionRevoked
from tests.support.runtime import ingest_once
from tests.support.twitch_world import (
    STREAMER_TWITCH_ID,
    post,
    register,
    session_row,
    signed,
    start_session,
    subscription,
    twitch_settings,
)


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return twitch_settings(clean_db)


def _revocation(sub_id: str, at: Any, type_: str = "channel.chat.message") -> Any:
    body = envelope.revocation_body(subscription(type_, sub_id, status="authorization_revoked"))
    return signed(body, at=at, message_type="revocation", subscription_type=type_)


async def test_a_revoked_subscription_of_an_active_session_is_renewed_and_the_streamer_told(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any, memory_ports: Any
) -> None:
    user_id = await register(container, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(container, user_id)
    (old,) = (await session_row(container, session_id)).subscriptions

    r = await post(app_client, _revocation(old, fake_clock.now()))
    res = await ingest_once(container)

    assert r.status_code == 204 and [x.subscription_id for x in res.revoked] == [old]
    row = await session_row(container, session_id)
    assert old not in row.subscriptions and len(row.subscriptions) == 1
    assert row.subscriptions[0] in memory_ports.eventsub.active
    assert "revoked" in row.notice and "renewed" in row.notice
    assert memory_ports.eventsub.names().count("subscribe") == 2


async def test_when_renewal_fails_the_streamer_is_told_to_reconnect(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any, memory_ports: Any
) -> None:
    user_id = await register(container, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(container, user_id)
    (old,) = (await session_row(container, session_id)).subscriptions
    memory_ports.eventsub.fail_on["subscribe"] = ExternalServiceError("token revoked")
    revocation = SubscriptionRevoked(
        old, "channel.chat.message", "authorization_revoked", STREAMER_TWITCH_ID
    )

    renewed = await container.subscriptions.renew_revoked(revocation, attempts=1, delay_s=0)

    row = await session_row(container, session_id)
    assert renewed is False
    assert "could not be renewed: token revoked" in row.notice and "Reconnect" in row.notice


async def test_a_revocation_after_the_session_stopped_changes_nothing(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any, memory_ports: Any
) -> None:
    user_id = await register(container, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(container, user_id)
    (old,) = (await session_row(container, session_id)).subscriptions
    await container.bus.execute(cmd.StopSession(session_id=session_id, actor_id=user_id))

    r = await post(app_client, _revocation(old, fake_clock.now()))
    await ingest_once(container)

    assert r.status_code == 204
    assert memory_ports.eventsub.names().count("subscribe") == 1
    assert (await session_row(container, session_id)).status == "stopped"


async def _started(c: Any, vote_mode: str = "chat") -> tuple[int, int]:
    user_id = await register(c, "streamer", STREAMER_TWITCH_ID)
    scale = "1-5" if vote_mode == "poll" else "0-10"
    return user_id, await start_session(c, user_id, vote_mode=vote_mode, scale=scale)


async def test_a_subscription_twitch_dropped_is_made_again_and_the_streamer_told(
    container: Any, memory_ports: Any
) -> None:
    _, session_id = await _started(container, vote_mode="poll")
    before = (await session_row(container, session_id)).subscriptions
    chat = next(i for i, s in memory_ports.eventsub.active.items() if s.type.endswith("message"))
    del memory_ports.eventsub.active[chat]  # revoked while no process was up to renew it

    restored = await container.subscriptions.restore_lost()
    again = await container.subscriptions.restore_lost()

    row = await session_row(container, session_id)
    assert (restored, again) == (1, 0)
    assert chat not in row.subscriptions and len(row.subscriptions) == len(before)
    assert set(row.subscriptions) == set(memory_ports.eventsub.active)
    assert [c for c in memory_ports.eventsub.calls if c[0] == "subscribe"][-1] == (
        "subscribe",
        (STREAMER_TWITCH_ID, ("channel.chat.message",)),
    )
    assert "stopped sending channel.chat.message events" in row.notice


async def test_nothing_is_asked_of_twitch_without_an_active_session(
    container: Any, memory_ports: Any
) -> None:
    user_id, session_id = await _started(container)
    await container.bus.execute(cmd.StopSession(session_id=session_id, actor_id=user_id))
    memory_ports.eventsub.active.clear()
    calls = len(memory_ports.eventsub.calls)

    assert await container.subscriptions.restore_lost() == 0
    assert len(memory_ports.eventsub.calls) == calls


async def test_failures_are_shown_on_the_session_and_never_raised(
    container: Any, memory_ports: Any
) -> None:
    _, session_id = await _started(container)
    memory_ports.eventsub.active.clear()
    memory_ports.eventsub.fail_on["live"] = ExternalServiceError("Twitch is down")  # once
    assert await container.subscriptions.restore_lost() == 0  # cannot tell: changes nothing
    assert (await session_row(container, session_id)).notice is None

    memory_ports.eventsub.fail_on["subscribe"] = ExternalServiceError("token revoked")
    assert await container.subscriptions.restore_lost() == 0
    row = await session_row(container, session_id)
    assert row.notice == "Twitch events unavailable: token revoked"
    assert len(row.subscriptions) == 1  # kept until one is made again


async def test_the_websocket_transport_is_left_to_the_process_holding_the_connection(
    container: Any, memory_ports: Any
) -> None:
    await _started(container)
    memory_ports.eventsub.active.clear()
    calls = len(memory_ports.eventsub.calls)
    container.kernel.settings = container.settings.model_copy(
        update={"twitch_eventsub_transport": "websocket"}
    )

    assert await container.subscriptions.restore_lost() == 0
    assert len(memory_ports.eventsub.calls) == calls


async def test_the_worker_runs_it_every_minute(container: Any, memory_ports: Any) -> None:
    register_tasks(container.job_deps(), "test")
    periodic = container.jobs.periodic_registry.periodic_tasks.values()
    job = next(p for p in periodic if p.periodic_id == "restore-eventsub")
    _, session_id = await _started(container)
    memory_ports.eventsub.active.clear()

    await container.jobs.tasks["restore_eventsub"].func(timestamp=0)

    assert job.cron == "* * * * *"
    row = await session_row(container, session_id)
    assert set(row.subscriptions) == set(memory_ports.eventsub.active) != set()
