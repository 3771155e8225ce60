"""POST /webhooks/twitch then ingest (SPEC §6, §4.1): signatures, freshness, challenge, inbox
before acknowledgement, redelivery, unknown types, routing, nanosecond timestamps, bot and
broadcaster messages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from sqlalchemy import select

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.core.inbox import InboxRow
from tests.support.runtime import ingest_once
from tests.support.twitch_world import (
    BOT_TWITCH_ID,
    STREAMER_TWITCH_ID,
    chat_delivery,
    post,
    register,
    report,
    signed,
    start_session,
    subscription,
)


async def _inbox_rows(c: Any) -> list[InboxRow]:
    async with c.db.session() as s:
        return list(await s.scalars(select(InboxRow).order_by(InboxRow.id)))


async def _live_session(c: Any, fake_clock: Any, **kw: Any) -> int:
    user_id = await register(c, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(c, user_id, **kw)
    fake_clock.advance(2)
    return session_id


async def test_unsigned_or_wrongly_signed_or_stale_deliveries_are_forbidden(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    now = fake_clock.now()
    good = chat_delivery("7", "1001", at=now)
    unsigned = dict(good.headers)
    del unsigned["Twitch-Eventsub-Message-Signature"]
    other_secret = chat_delivery("7", "1001", at=now, secret="another-secret-value-99")
    stale = chat_delivery("7", "1001", at=now - dt.timedelta(minutes=11))
    tampered = dict(good.headers)

    answers = [
        await app_client.post("/webhooks/twitch", content=good.body, headers=unsigned),
        await post(app_client, other_secret),
        await post(app_client, stale),
        await app_client.post("/webhooks/twitch", content=good.body + b" ", headers=tampered),
    ]

    assert [r.status_code for r in answers] == [403, 403, 403, 403]
    assert all(r.json()["error"]["code"] == "forbidden" for r in answers)
    assert await _inbox_rows(container) == []


async def test_verification_challenge_is_echoed_as_plain_text(
    app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    body = envelope.verification_body(subscription("channel.chat.message"), "pogchamp-kappa-42")
    d = signed(body, at=fake_clock.now(), message_type="webhook_callback_verification")

    r = await post(app_client, d)

    assert r.status_code == 200
    assert r.text == "pogchamp-kappa-42"
    assert r.headers["content-type"].startswith("text/plain")


async def test_notification_is_in_the_inbox_when_acknowledged_and_a_redelivery_counts_once(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    session_id = await _live_session(container, fake_clock)
    d = chat_delivery("!vote 8", "1001", at=fake_clock.now())

    first = await post(app_client, d)
    rows = await _inbox_rows(container)
    again = await post(app_client, d)

    assert first.status_code == 204 and again.status_code == 204
    assert [r.external_id for r in rows] == [d.message_id] and rows[0].processed_at is None
    assert len(await _inbox_rows(container)) == 1
    res = await ingest_once(container)
    assert (res.processed, res.accepted) == (1, 1)
    track = (await report(container, session_id))["tracks"][0]
    assert track["votes"] == 1 and track["distribution"]["8"] == 1


async def test_unknown_subscription_types_are_acknowledged_and_not_stored(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    body = envelope.notification_body(subscription("channel.follow"), {"user_id": "1"})
    d = signed(body, at=fake_clock.now(), subscription_type="channel.follow")

    r = await post(app_client, d)

    assert r.status_code == 204
    assert await _inbox_rows(container) == []


async def test_votes_are_routed_by_broadcaster_id_whatever_the_subscription_id(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    first = await _live_session(container, fake_clock)
    other_user = await register(container, "second_streamer", "987654321")
    second = await start_session(container, other_user)
    fake_clock.advance(1)
    now = fake_clock.now()

    for d in (
        chat_delivery("3", "2001", at=now),
        chat_delivery("9", "2002", at=now, broadcaster_id="987654321"),
        chat_delivery("9", "2003", at=now, broadcaster_id="999999999"),
    ):
        assert (await post(app_client, d)).status_code == 204
    res = await ingest_once(container)

    assert (res.processed, res.accepted, res.ignored) == (3, 2, 1)
    assert (await report(container, first))["tracks"][0]["distribution"]["3"] == 1
    assert (await report(container, first))["votes"] == 1
    assert (await report(container, second))["tracks"][0]["distribution"]["9"] == 1


async def test_nine_digit_timestamps_date_the_vote(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    await _live_session(container, fake_clock)
    at = fake_clock.now().replace(microsecond=654321)
    d = chat_delivery("6", "1001", at=at, nanos=987)
    assert d.headers["Twitch-Eventsub-Message-Timestamp"].endswith(".654321987Z")

    assert (await post(app_client, d)).status_code == 204
    await ingest_once(container)

    async with container.db.session() as s:
        from premiere_ecoute.sessions.models import Vote

        vote = (await s.scalars(select(Vote))).one()
    assert vote.sent_at.replace(tzinfo=dt.UTC) == at


async def test_bot_messages_are_ignored_and_the_broadcasters_chat_is_the_streamer_rating(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    session_id = await _live_session(container, fake_clock)
    await register(container, "premiere_bot", BOT_TWITCH_ID, role="bot")
    now = fake_clock.now()

    for d in (
        chat_delivery("10", BOT_TWITCH_ID, at=now),
        chat_delivery("9", STREAMER_TWITCH_ID, at=now),
        chat_delivery("4", "3001", at=now),
    ):
        assert (await post(app_client, d)).status_code == 204
    res = await ingest_once(container)

    track = (await report(container, session_id))["tracks"][0]
    assert (res.accepted, res.ignored) == (2, 1)
    assert track["streamer_score"] == 9
    assert track["viewer_score"] == 4 and track["votes"] == 1 and track["voters"] == 1


async def test_signed_bodies_that_are_not_deliveries_are_refused_as_bad_requests(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    now = fake_clock.now()
    bodies = [
        b"not json",
        b"[1, 2]",
        b'{"subscription": {}, "event": NaN}',
        b"{}",
        b'{"subscription": {}, "event": {"message": "\\ud800"}}',
    ]

    codes = [(await post(app_client, signed(b, at=now))).status_code for b in bodies]

    assert codes == [400] * len(bodies)
    assert await _inbox_rows(container) == []


async def test_nul_characters_are_dropped_and_the_vote_still_counts(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    session_id = await _live_session(container, fake_clock)
    d = chat_delivery("7\u0000", "1001", at=fake_clock.now())
    assert b"\\u0000" in d.body

    assert (await post(app_client, d)).status_code == 204
    await ingest_once(container)

    assert (await report(container, session_id))["tracks"][0]["distribution"]["7"] == 1
    assert json.dumps((await _inbox_rows(container))[0].payload).find("\\u0000") == -1


async def test_an_oversized_body_is_refused_before_it_is_read_whole(
    app_client: httpx.AsyncClient,
) -> None:
    huge = b"{" + b" " * (300 * 1024) + b"}"
    declared = await app_client.post(
        "/webhooks/twitch", content=huge, headers={"Content-Type": "application/json"}
    )

    async def chunks() -> Any:  # no Content-Length: counted while it streams in
        for _ in range(40):
            yield b" " * 8192

    streamed = await app_client.post("/webhooks/twitch", content=chunks())
    assert declared.status_code == 413 and streamed.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"
