"""Chat commands answered by the bot: signed EventSub deliveries, the real ingest, the
answering loop off the ingest's transaction, the chat port; rate limits; the session's
settings (control page and API) and language."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.demo import create_token
from premiere_ecoute.sessions import commands as cmd
from tests.support.pages import CSRF, login_session, session_cookie
from tests.support.runtime import ingest_once
from tests.support.twitch_world import (
    STREAMER_TWITCH_ID,
    chat_delivery,
    post,
    register,
    report,
    start_session,
)

SCORE = (
    "“Morning Static”: chat 7.0 (2 votes, Bayesian 5.3), streamer 9.0 · "
    "album: chat 7.0, streamer 9.0"
)


async def _say(client: httpx.AsyncClient, c: Any, lines: list[tuple[str, str]]) -> None:
    for text, chatter in lines:
        r = await post(client, chat_delivery(text, chatter, at=c.clock.now()))
        assert r.status_code == 204


async def _rated_session(c: Any, client: httpx.AsyncClient, clock: Any) -> tuple[int, int]:
    """Track 1 rated 8 and 6 by two viewers and 9 by the streamer (0-10, default prior)."""
    user_id = await register(c, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(c, user_id)
    clock.advance(2)
    await _say(client, c, [("8", "1001"), ("6", "1002"), ("9", STREAMER_TWITCH_ID)])
    await ingest_once(c)
    return user_id, session_id


def _said(c: Any, before: int) -> list[str]:
    return [text for _, text in c.ports.chat.sent[before:]]


async def test_score_myvote_and_top_are_answered_off_the_vote_path(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    _, session_id = await _rated_session(container, app_client, fake_clock)
    before = len(container.ports.chat.sent)
    await _say(app_client, container, [("!score", "1003"), ("!myvote", "1001"), ("!top", "1002")])

    res = await ingest_once(container)

    # the ingest only noticed them: nothing said yet, no vote counted, nothing logged
    assert (res.accepted, res.ignored) == (0, 3)
    assert _said(container, before) == []
    assert container.chat_commands.pending() == 3
    assert (await report(container, session_id))["votes"] == 2
    async with container.db.session() as s:
        types = set(await s.scalars(select(StoredEventRow.type)))
    assert "ChatCommandAsked" not in types

    answers = await container.chat_commands.drain()

    assert (
        answers
        == _said(container, before)
        == [
            SCORE,
            "@u1001 your rating of “Morning Static”: 8",
            "Top so far (Bayesian average): 1. Morning Static (5.3)",
        ]
    )
    assert {b for b, _ in container.ports.chat.sent[before:]} == {STREAMER_TWITCH_ID}


async def test_the_streamer_asks_for_their_own_rating(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    await _rated_session(container, app_client, fake_clock)
    await _say(app_client, container, [("!myvote", STREAMER_TWITCH_ID), ("!myvote", "1009")])
    await ingest_once(container)
    assert await container.chat_commands.drain() == [
        f"@u{STREAMER_TWITCH_ID} your rating of “Morning Static”: 9",
        "@u1009 you have not rated “Morning Static” yet",
    ]


async def test_answers_are_rate_limited_per_viewer_and_per_channel(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    await _rated_session(container, app_client, fake_clock)
    # one viewer three times: one answer (a viewer gets one per 30 s)
    await _say(app_client, container, [("!score", "1003")] * 3)
    await ingest_once(container)
    assert await container.chat_commands.drain() == [SCORE]
    # five other viewers: two more answers fill the channel's 3 per 30 s
    await _say(app_client, container, [("!top", f"20{i}") for i in range(5)])
    await ingest_once(container)
    assert len(await container.chat_commands.drain()) == 2
    assert container.chat_commands.limited == 2 + 3
    # 30 s later the channel and the first viewer may ask again
    fake_clock.advance(30)
    await _say(app_client, container, [("!score", "1003")])
    await ingest_once(container)
    assert len(await container.chat_commands.drain()) == 1


async def test_commands_switched_off_and_the_session_language(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    user_id, session_id = await _rated_session(container, app_client, fake_clock)
    await container.bus.execute(
        cmd.SetChatCommands(
            session_id=session_id, actor_id=user_id, language="fr", enabled=(("myvote", False),)
        )
    )
    await _say(app_client, container, [("!myvote", "1001"), ("!score", "1002")])
    await ingest_once(container)
    assert await container.chat_commands.drain() == [
        "« Morning Static » : chat 7,0 (2 votes, bayésienne 5,3), streamer 9,0 · "
        "album : chat 7,0, streamer 9,0"
    ]
    await container.bus.execute(
        cmd.SetChatCommands(session_id=session_id, actor_id=user_id, language="it")
    )
    fake_clock.advance(30)
    await _say(app_client, container, [("!top", "1001")])
    await ingest_once(container)
    assert await container.chat_commands.drain() == [
        "I migliori finora (media bayesiana): 1. Morning Static (5,3)"
    ]


async def test_settings_from_the_control_page_and_the_api(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    user_id, session_id = await _rated_session(container, app_client, fake_clock)
    key = container.settings.secret_key
    sid = await login_session(container, user_id)
    app_client.cookies.set(
        "pe_session", session_cookie(key, {"user_id": user_id, "csrf": CSRF, "sid": sid})
    )
    page = await app_client.get(f"/sessions/{session_id}", headers={"accept": "text/html"})
    assert "data-chat-commands" in page.text and 'name="myvote" checked' in page.text
    saved = await app_client.post(
        f"/sessions/{session_id}/actions/chat-commands",
        data={"csrf_token": CSRF, "score": "on", "chat_language": "it"},
        headers={"hx-request": "true", "x-csrf-token": CSRF},
    )
    assert saved.status_code == 200 and "Chat commands saved." in saved.text
    app_client.cookies.clear()

    token = await create_token(container, user_id, "tests")
    auth = {"Authorization": f"Bearer {token}"}
    view = (await app_client.get(f"/api/v1/sessions/{session_id}", headers=auth)).json()
    assert view["chat_commands"] == {"language": "it", "score": True, "myvote": False, "top": False}
    changed = await app_client.put(
        f"/api/v1/sessions/{session_id}/chat-commands",
        json={"language": "fr", "top": True},
        headers=auth,
    )
    assert changed.status_code == 200
    assert changed.json()["chat_commands"] == {
        "language": "fr",
        "score": True,
        "myvote": False,
        "top": True,
    }
    bad = await app_client.put(
        f"/api/v1/sessions/{session_id}/chat-commands", json={"language": "de"}, headers=auth
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
    await app_client.post(f"/api/v1/sessions/{session_id}/stop", headers=auth)
    late = await app_client.put(
        f"/api/v1/sessions/{session_id}/chat-commands", json={"top": False}, headers=auth
    )
    assert late.status_code == 409
    assert late.json()["error"]["message"] == "the session is over: its chat commands are off"
