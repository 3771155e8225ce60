"""Follows sync (SPEC §1): import each viewer's Twitch follows of streamers registered here.

Hourly, every user with a usable Twitch connection gets one job; a job is idempotent: it adds
the follows that are new on Twitch and drops the Twitch-imported ones that ended there, and
never touches follows made in the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import Follow, OAuthCredential, Role, User
from premiere_ecoute.core.errors import DomainError

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

log = structlog.get_logger(__name__)
SOURCE = "twitch"
STREAMING_ROLES = (Role.STREAMER.value, Role.ADMIN.value)


async def users_to_sync(s: AsyncSession) -> list[int]:
    rows = await s.scalars(
        select(OAuthCredential.user_id)
        .join(User, User.id == OAuthCredential.user_id)
        .where(
            OAuthCredential.provider == "twitch",
            OAuthCredential.status == "ok",
            User.twitch_user_id.is_not(None),
            User.role != Role.BOT.value,
        )
        .order_by(OAuthCredential.user_id)
    )
    return list(rows)


async def _streamers_by_twitch_id(s: AsyncSession, twitch_ids: list[str]) -> dict[str, int]:
    if not twitch_ids:
        return {}
    rows = await s.execute(
        select(User.twitch_user_id, User.id).where(
            User.twitch_user_id.in_(twitch_ids), User.role.in_(STREAMING_ROLES)
        )
    )
    return {str(tid): int(uid) for tid, uid in rows}


async def _store_follows(s: AsyncSession, follower_id: int, streamer_ids: set[int]) -> None:
    stale = delete(Follow).where(Follow.follower_id == follower_id, Follow.source == SOURCE)
    if streamer_ids:
        stale = stale.where(Follow.streamer_id.not_in(sorted(streamer_ids)))
    await s.execute(stale)
    if streamer_ids:
        await s.execute(
            insert(Follow)
            .values(
                [
                    {"follower_id": follower_id, "streamer_id": sid, "source": SOURCE}
                    for sid in sorted(streamer_ids)
                ]
            )
            .on_conflict_do_nothing()
        )


async def sync_follows(c: Container, user_id: int) -> int:
    """Import ``user_id``'s Twitch follows; returns how many registered streamers they follow
    on Twitch (0 for an unknown user or one without Twitch)."""
    async with c.db.session() as s:
        user = await s.get(User, user_id)
        twitch_id = user.twitch_user_id if user is not None else None
    if twitch_id is None:
        return 0
    token = await c.services["credentials"].twitch(twitch_id)
    followed = await c.services["twitch"].get_followed_channels(twitch_id, token)
    async with c.db.session() as s, s.begin():
        streamers = await _streamers_by_twitch_id(
            s, [f.broadcaster_id for f in followed if f.broadcaster_id != twitch_id]
        )
        await _store_follows(s, user_id, set(streamers.values()))
    log.info("accounts.follows.synced", user_id=user_id, streamers=len(streamers))
    return len(streamers)


async def sync_all_follows(c: Container) -> tuple[int, int]:
    """Sync every user with Twitch; one failure does not stop the others. (synced, failed)"""
    async with c.db.session() as s:
        user_ids = await users_to_sync(s)
    synced = failed = 0
    for user_id in user_ids:
        try:
            await sync_follows(c, user_id)
            synced += 1
        except DomainError as exc:
            failed += 1
            log.warning("accounts.follows.sync_failed", user_id=user_id, reason=exc.message)
    return synced, failed


def register_follow_jobs(c: Container) -> None:
    """Hourly ``sync_follows`` job (procrastinate periodic task) on ``c.jobs``."""
    app = c.jobs

    @app.periodic(cron="41 * * * *", periodic_id="sync-follows")
    @app.task(name="sync_follows", queueing_lock="sync_follows", pass_context=False)
    async def sync_follows_job(timestamp: int) -> None:
        synced, failed = await sync_all_follows(c)
        log.info("jobs.follows.done", synced=synced, failed=failed, timestamp=timestamp)
