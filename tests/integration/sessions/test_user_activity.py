"""Deleting an account leaves no trace of the person in the event log or the inbox, while
every report (stored and replayed) stays what it was without them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select, text

from premiere_ecoute.accounts.commands import DeleteAccount
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.core.inbox import InboxRow
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.replay import replay_all
from tests.support.sessions import (
    Cast,
    apply,
    at,
    ballot,
    live_report,
    prepared_and_started,
    stop,
)

ALIAS = re.compile(r"^erased:[0-9a-f]{16}$")


def _values(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for value in node.values() for v in _values(value)]
    if isinstance(node, list):
        return [v for value in node for v in _values(value)]
    return [node]


async def _events(c: Any) -> list[StoredEventRow]:
    async with c.db.session() as s:
        return list(await s.scalars(select(StoredEventRow).order_by(StoredEventRow.position)))


def _chat(message_id: str, chatter_id: str, processed: bool, error: str | None = None) -> InboxRow:
    return InboxRow(
        source="twitch",
        external_id=message_id,
        kind="chat",
        payload={"chatter_id": chatter_id, "broadcaster_id": "1", "text": "7"},
        processed_at=dt.datetime.now(dt.UTC) if processed else None,
        error=error,
    )


async def test_a_deleted_viewer_is_anonymous_in_the_log_and_reports_are_unchanged(
    container: Any, cast: Cast
) -> None:
    c, viewer = container, cast.viewer
    twitch_id = viewer.twitch_user_id
    assert twitch_id is not None
    mine = await prepared_and_started(c, cast.streamer)
    await apply(c, mine, [ballot(twitch_id, "7", at(c, 1)), ballot("someone", "5", at(c, 1))])
    await apply(c, mine, [ballot(twitch_id, "9", at(c, 2))])  # latest rating wins
    # A session its streamer deleted keeps its events: the viewer's vote there too.
    gone = await prepared_and_started(c, cast.rival)
    await apply(c, gone, [ballot(twitch_id, "4", at(c, 1))])
    await stop(c, cast.rival, gone)
    await c.bus.execute(cmd.DeleteSession(session_id=gone, actor_id=cast.rival.id))
    async with c.db.session() as s, s.begin():
        s.add_all(
            [
                _chat("m-viewer", twitch_id, processed=True),
                _chat("m-viewer-failed", twitch_id, processed=True, error="unparsable"),
                _chat("m-someone", "someone", processed=True),
                _chat("m-viewer-pending", twitch_id, processed=False),
            ]
        )
    before = await live_report(c, mine)
    votes_before = sum(e.type == "VoteAccepted" for e in await _events(c))

    await c.bus.execute(
        DeleteAccount(user_id=viewer.id, actor_id=viewer.id, confirm_login="viewerone")
    )

    log = await _events(c)
    named = {viewer.login, twitch_id, f"user:{viewer.id}"}
    assert [e.type for e in log if named & set(map(str, _values(e.payload)))] == []
    votes = [e.payload for e in log if e.type == "VoteAccepted"]
    assert len(votes) == votes_before == 4
    aliases = {v["viewer_id"] for v in votes if v["viewer_id"] != "someone"}
    assert len(aliases) == 1 and ALIAS.match(aliases.pop())
    erased = [e.payload["viewer_ids"] for e in log if e.type == "ViewerRatingsErased"]
    assert len(erased) == 1 and all(ALIAS.match(v) for v in erased[0])
    own = {e.type: e.payload for e in log if e.stream == f"user-{viewer.id}"}
    assert own["UserRegistered"]["login"] == "erased"
    assert own["UserRegistered"]["twitch_user_id"] is None
    assert "login" not in own["AccountDeleted"]

    after = await live_report(c, mine)
    track = after["tracks"][0]
    assert before["tracks"][0]["distribution"]["9"] == 1
    assert (track["votes"], track["distribution"]["9"], track["distribution"]["5"]) == (1, 0, 1)
    async with c.db.session() as s:
        assert await replay_all(s, c.store, mine) == {mine: []}
        inbox = set(await s.scalars(select(InboxRow.external_id)))
    # The viewer's processed chat is gone; unprocessed messages are never dropped.
    assert inbox == {"m-someone", "m-viewer-pending"}


async def test_the_erasure_finds_a_viewers_votes_through_an_index(container: Any) -> None:
    async with container.db.session() as s:
        await s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await s.scalars(
            text(
                "EXPLAIN UPDATE events SET payload = payload"
                " WHERE type = 'VoteAccepted' AND payload->>'viewer_id' = 'x'"
            )
        )
        assert "ix_events_vote_viewer" in "\n".join(plan)
