"""The inbox: an external message is stored once, then processed once."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import select

from premiere_ecoute.core.inbox import GroupCommitWriter, InboxMessage, InboxRow


def _msg(external_id: str) -> InboxMessage:
    return InboxMessage(
        source="twitch",
        external_id=external_id,
        kind="channel.chat.message",
        payload={"n": external_id},
        sent_at=dt.datetime.now(dt.UTC),
    )


async def test_same_message_twice_is_stored_once(container: Any) -> None:
    async with container.db.sessionmaker() as s, s.begin():
        assert await container.inbox.store(s, [_msg("m1")]) == {("twitch", "m1")}
    async with container.db.sessionmaker() as s, s.begin():
        assert await container.inbox.store(s, [_msg("m1"), _msg("m2")]) == {("twitch", "m2")}
    async with container.db.session() as s:
        assert await container.inbox.pending_count(s) == 2


async def test_claimed_messages_are_not_claimed_again_once_done(container: Any) -> None:
    async with container.db.sessionmaker() as s, s.begin():
        await container.inbox.store(s, [_msg(f"k{i}") for i in range(5)])
    async with container.db.sessionmaker() as s, s.begin():
        batch = await container.inbox.claim(s, 3)
        await container.inbox.mark_done(s, [m.id for m in batch])
    async with container.db.sessionmaker() as s, s.begin():
        rest = await container.inbox.claim(s, 10)
    assert [m.external_id for m in batch] == ["k0", "k1", "k2"]
    assert [m.external_id for m in rest] == ["k3", "k4"]


def _chat(external_id: str) -> InboxMessage:
    payload = {"chatter_id": "42", "broadcaster_id": "1", "text": "my address is…"}
    return InboxMessage("twitch", external_id, "chat", payload)


async def test_processed_chat_keeps_no_text_unless_processing_failed(container: Any) -> None:
    messages = [_chat("ok"), _chat("bad"), _chat("later"), _msg("other")]
    async with container.db.sessionmaker() as s, s.begin():
        await container.inbox.store(s, messages)
        batch = await container.inbox.claim(s, 2)
        await container.inbox.mark_done(s, [m.id for m in batch], {batch[1].id: "unparsable"})
        await container.inbox.mark_done(s, [(await container.inbox.claim(s, 2))[1].id])
        redelivered = await container.inbox.store(s, [_chat("ok")])
    async with container.db.session() as s:
        rows = {r.external_id: r for r in await s.scalars(select(InboxRow))}
    assert redelivered == set()
    assert rows["ok"].payload == {"chatter_id": "42", "broadcaster_id": "1"}
    assert rows["ok"].processed_at is not None and rows["ok"].error is None
    assert rows["bad"].payload == messages[1].payload and rows["bad"].error == "unparsable"
    assert rows["later"].payload == messages[2].payload and rows["later"].processed_at is None
    assert rows["other"].payload == {"n": "other"}  # no chat text to drop


async def test_concurrent_claims_skip_each_others_rows(container: Any) -> None:
    async with container.db.sessionmaker() as s, s.begin():
        await container.inbox.store(s, [_msg(f"c{i}") for i in range(4)])
    async with container.db.sessionmaker() as a, a.begin():
        first = await container.inbox.claim(a, 2)
        async with container.db.sessionmaker() as b, b.begin():
            second = await container.inbox.claim(b, 10)
    assert {m.external_id for m in first}.isdisjoint({m.external_id for m in second})
    assert len(first) + len(second) == 4


async def test_group_commit_writer_shares_transactions_and_reports_redeliveries(
    container: Any,
) -> None:
    woken: list[int] = []

    async def on_commit() -> None:
        woken.append(1)

    writer = GroupCommitWriter(
        container.db.sessionmaker, container.inbox, window_s=0.01, on_commit=on_commit
    )
    try:
        results = await asyncio.gather(*(writer.store(_msg(f"g{i}")) for i in range(50)))
        again = await writer.store(_msg("g7"))
    finally:
        await writer.close()
    assert all(results) and again is False
    assert 1 <= len(woken) < 50  # fewer commits than messages
    async with container.db.session() as s:
        assert await container.inbox.pending_count(s) == 50


async def test_writer_survives_a_failing_wake_up_and_answers_duplicates_in_one_batch(
    container: Any,
) -> None:
    calls: list[int] = []

    async def broken_wake() -> None:
        calls.append(1)
        raise ConnectionError("broker down")

    writer = GroupCommitWriter(
        container.db.sessionmaker, container.inbox, window_s=0.02, on_commit=broken_wake
    )
    try:
        same = _msg("twice")
        first, again = await asyncio.gather(writer.store(same), writer.store(same))
        later = await writer.store(_msg("after"))  # the writer is still alive
    finally:
        await writer.close()
    assert sorted([first, again]) == [False, True]
    assert later is True and len(calls) == 2
