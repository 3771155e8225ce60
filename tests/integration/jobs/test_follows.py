"""The follows sync job imports the Twitch follows of registered streamers (SPEC §1)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from premiere_ecoute.accounts.models import Follow, User
from premiere_ecoute.apis.twitch.fake.identity import fake_user_id
from premiere_ecoute.demo import create_user
from premiere_ecoute.jobs.follows import sync_all_follows, sync_follows


@pytest.fixture
def settings(clean_db: str) -> Any:
    from tests.conftest import make_settings

    return make_settings(database_url=clean_db, bot_login="premiere_bot", admin_logins="viewer_bob")


async def _follows(c: Any, user_id: int) -> set[tuple[str, str]]:
    async with c.db.session() as s:
        rows = await s.execute(
            select(User.login, Follow.source)
            .join(Follow, Follow.streamer_id == User.id)
            .where(Follow.follower_id == user_id)
        )
        return {(login, source) for login, source in rows}


async def test_follows_sync_imports_registered_streamers_and_is_idempotent(
    fake_container: Any,
) -> None:
    c = fake_container
    fake = c.fakes.twitch
    alice = await create_user(c, "viewer_alice", "viewer")
    await create_user(c, "streamer", "streamer")
    await create_user(c, "partner_dj", "streamer")
    await create_user(c, "viewer_bob", "viewer")  # admin by ADMIN_LOGINS
    await create_user(c, "nonaffiliate_streamer", "viewer")
    for followed in ("streamer", "partner_dj", "nonaffiliate_streamer", "ghost_dj", "viewer_bob"):
        fake.follow("viewer_alice", followed)

    first = await sync_follows(c, alice.id)
    again = await sync_follows(c, alice.id)

    expected = {("streamer", "twitch"), ("partner_dj", "twitch"), ("viewer_bob", "twitch")}
    assert first == again == 3
    assert await _follows(c, alice.id) == expected


async def test_follows_sync_drops_ended_twitch_follows_but_keeps_app_follows(
    fake_container: Any,
) -> None:
    c = fake_container
    fake = c.fakes.twitch
    alice = await create_user(c, "viewer_alice", "viewer")
    await create_user(c, "streamer", "streamer")
    partner = await create_user(c, "partner_dj", "streamer")
    fake.follow("viewer_alice", "streamer")
    async with c.db.session() as s:
        s.add(Follow(follower_id=alice.id, streamer_id=partner.id, source="app"))
        await s.commit()
    await sync_follows(c, alice.id)
    fake.follows[fake_user_id("viewer_alice")] = []

    synced, failed = await sync_all_follows(c)

    assert (synced, failed) == (3, 0)  # alice, streamer and partner_dj have Twitch
    assert await _follows(c, alice.id) == {("partner_dj", "app")}
