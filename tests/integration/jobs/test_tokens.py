"""The token job refreshes needed Spotify and Twitch tokens before they expire, and marks a
connection whose refresh is refused for good, once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from premiere_ecoute.accounts.commands import LinkConnection
from premiere_ecoute.accounts.models import OAuthCredential
from premiere_ecoute.jobs.tasks import register_tasks
from premiere_ecoute.jobs.tokens import refresh_expiring
from tests.support.spotify_world import prepared_session, streamer


async def _expire_soon(c: Any, user_id: int, minutes: float = 5) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    async with c.db.session() as s:
        await s.execute(
            update(OAuthCredential)
            .where(OAuthCredential.user_id == user_id)
            .values(expires_at=soon)
        )
        await s.commit()


async def _rows(c: Any, user_id: int) -> dict[str, OAuthCredential]:
    async with c.db.session() as s:
        rows = await s.scalars(select(OAuthCredential).where(OAuthCredential.user_id == user_id))
        return {r.provider: r for r in rows}


async def test_needed_tokens_are_refreshed_before_they_expire(sc: Any) -> None:
    from premiere_ecoute.demo import create_user

    busy = await streamer(sc, "busy_streamer")
    await prepared_session(sc, busy)
    bot = await create_user(sc, "the_bot", "bot", actor="test")
    idle = await streamer(sc, "idle_streamer")
    for user in (busy, bot, idle):
        await _expire_soon(sc, user.id)
    before = {u.id: await _rows(sc, u.id) for u in (busy, bot, idle)}

    counts = await refresh_expiring(sc.job_deps())

    assert counts == {"due": 4, "refreshed": 4, "needs_reconnect": 0, "failed": 0}
    for user in (busy, bot):
        rows = await _rows(sc, user.id)
        for provider in ("spotify", "twitch"):
            old, new = before[user.id][provider], rows[provider]
            assert new.access_token_enc != old.access_token_enc
            assert new.expires_at > old.expires_at + dt.timedelta(minutes=30)
    spotify = await sc.credentials.spotify(busy.id)
    assert spotify.access_token.startswith("fake-spotify-at-")  # stored encrypted, readable
    # Nobody needs the idle streamer's tokens right now.
    idle_rows = await _rows(sc, idle.id)
    for provider in ("spotify", "twitch"):
        assert idle_rows[provider].access_token_enc == before[idle.id][provider].access_token_enc
    assert (await refresh_expiring(sc.job_deps()))[
        "due"
    ] == 0  # fresh now; the idle one is not needed


async def test_refused_refresh_marks_needs_reconnect_once(sc: Any) -> None:
    from premiere_ecoute.core.errors import InvalidState

    user = await streamer(sc)
    await prepared_session(sc, user)
    await sc.bus.execute(
        LinkConnection(
            user_id=user.id,
            provider="spotify",
            external_id="x",
            access_token="revoked-access",
            refresh_token="revoked-refresh",
            expires_at=None,
        )
    )
    await _expire_soon(sc, user.id)

    first = await refresh_expiring(sc.job_deps())
    second = await refresh_expiring(sc.job_deps())

    assert first["needs_reconnect"] == 1 and first["refreshed"] == 1  # Twitch still refreshed
    assert second["due"] == 0  # no retry loop
    assert (await _rows(sc, user.id))["spotify"].status == "needs_reconnect"
    try:
        await sc.credentials.spotify(user.id)
    except InvalidState as exc:
        assert "reconnect" in exc.message
    else:
        raise AssertionError("a connection that needs reconnecting must not be used")


async def test_refresh_job_runs_every_minute(sc: Any) -> None:
    register_tasks(sc.job_deps(), "test")
    register_tasks(sc.job_deps(), "test")  # idempotent

    assert "refresh_tokens" in sc.jobs.tasks
    periodic = [p for p in sc.jobs.periodic_registry.periodic_tasks.values()]
    job = next(p for p in periodic if p.periodic_id == "refresh-tokens")
    assert job.cron == "* * * * *"


async def test_a_refresh_lost_to_another_process_does_not_break_the_connection(sc: Any) -> None:
    """Two processes refreshed at once; the provider rotated the token, so the slower one's
    attempt was refused. The connection the faster one saved keeps working."""
    user = await streamer(sc)
    repo = sc.credentials
    await sc.bus.execute(
        LinkConnection(
            user_id=user.id,
            provider="spotify",
            external_id="x",
            access_token="new-access",
            refresh_token="rotated-refresh",
            expires_at=None,
        )
    )
    assert await repo.mark_needs_reconnect(user.id, "spotify", "old-refresh") is False
    assert (await _rows(sc, user.id))["spotify"].status == "ok"
    assert (await repo.spotify(user.id)).access_token == "new-access"
    # Refused with the very token we hold: that one is dead for good.
    assert await repo.mark_needs_reconnect(user.id, "spotify", "rotated-refresh") is True
    assert (await _rows(sc, user.id))["spotify"].status == "needs_reconnect"
