"""Two ingest loops (the web process and a worker) working at once on the same channels."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest

from premiere_ecoute.config import Settings
from premiere_ecoute.core.inbox import InboxMessage
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.inbound import ChatLine, to_inbox
from tests.support.runtime import ingest_once
from tests.support.twitch_world import register, report, start_session, twitch_settings


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return twitch_settings(clean_db)


def _message(broadcaster: str, chatter: str, text: str, at: Any) -> InboxMessage:
    kind, payload, sent_at = to_inbox(
        ChatLine(broadcaster, chatter, f"u{chatter}", f"u{chatter}", text, at)
    )
    return InboxMessage("twitch", str(uuid.uuid4()), kind, payload, sent_at)


async def test_batches_touching_channels_in_opposite_orders_both_commit(container: Any) -> None:
    first = await start_session(container, await register(container, "alpha", "111111111"))
    second = await start_session(container, await register(container, "beta", "222222222"))
    at = container.clock.now()
    # Claimed two by two: the first batch meets alpha then beta, the second beta then alpha.
    messages = [
        _message("111111111", "901", "4", at),
        _message("222222222", "902", "5", at),
        _message("222222222", "903", "6", at),
        _message("111111111", "904", "7", at),
    ]
    async with container.db.sessionmaker() as s, s.begin():
        await container.inbox.store(s, messages)
    ingestor = container.ingestor

    async def one_batch() -> int:
        async with container.bus.unit_of_work(actor="test") as uow:
            res = await ingestor.process_batch(uow, limit=2)
            await asyncio.sleep(0.2)  # hold the locks while the other batch starts
            await uow.commit()
            return int(res.accepted)

    accepted = await asyncio.wait_for(asyncio.gather(one_batch(), one_batch()), 30)
    assert sorted(accepted) == [2, 2]
    a, b = await report(container, first), await report(container, second)
    assert (a["votes"], b["votes"]) == (2, 2)
    assert a["tracks"][0]["distribution"]["4"] == 1 and a["tracks"][0]["distribution"]["7"] == 1


async def test_chat_owed_to_a_session_that_just_stopped_is_not_taken_by_the_next(
    container: Any,
) -> None:
    user_id = await register(container, "quickhost", "333333333")
    old = await start_session(container, user_id, stream_delay_s=10)
    container.clock.advance(30)
    stopped_at = container.clock.now()
    await container.bus.execute(cmd.StopSession(session_id=old, actor_id=user_id))
    container.clock.advance(2)
    new = await start_session(container, user_id, stream_delay_s=10)
    # Sent 5 s after the stop: with 10 s of delay the viewer was still hearing the old album.
    late = stopped_at + dt.timedelta(seconds=5)
    # Sent 15 s after the new start: it belongs to the new session.
    fresh = container.clock.now() + dt.timedelta(seconds=15)
    async with container.db.sessionmaker() as s, s.begin():
        await container.inbox.store(
            s, [_message("333333333", "905", "8", late), _message("333333333", "906", "3", fresh)]
        )
    await ingest_once(container)
    old_report, new_report = await report(container, old), await report(container, new)
    assert old_report["votes"] == 1 and old_report["tracks"][0]["distribution"]["8"] == 1
    assert new_report["votes"] == 1 and new_report["tracks"][0]["distribution"]["3"] == 1
