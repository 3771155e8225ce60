"""Follows sync (SPEC §1): import each viewer's Twitch follows of streamers registered here.

Hourly, every user with a usable Twitch connection is synced; a sync is idempotent: it adds
the follows that are new on Twitch and drops the Twitch-imported ones that ended there, and
never touches follows made in the app."""

from __future__ import annotations

import structlog

from premiere_ecoute.accounts import queries
from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.repository import store_twitch_follows
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.jobs.deps import JobDeps

log = structlog.get_logger(__name__)


async def sync_follows(deps: JobDeps, user_id: int) -> int:
    """Import ``user_id``'s Twitch follows; returns how many registered streamers they follow
    on Twitch (0 for an unknown user or one without Twitch)."""
    db = deps.kernel.db
    async with db.session() as s:
        user = await s.get(User, user_id)
        twitch_id = user.twitch_user_id if user is not None else None
    if twitch_id is None:
        return 0
    token = await deps.credentials.twitch(twitch_id)
    followed = await deps.twitch.get_followed_channels(twitch_id, token)
    async with db.session() as s, s.begin():
        streamers = await queries.streamers_by_twitch_id(
            s, [f.broadcaster_id for f in followed if f.broadcaster_id != twitch_id]
        )
        await store_twitch_follows(s, user_id, set(streamers.values()))
    log.info("accounts.follows.synced", user_id=user_id, streamers=len(streamers))
    return len(streamers)


async def sync_all_follows(deps: JobDeps) -> tuple[int, int]:
    """Sync every user with Twitch; one failure does not stop the others. (synced, failed)"""
    async with deps.kernel.db.session() as s:
        user_ids = await queries.users_to_sync_follows(s)
    synced = failed = 0
    for user_id in user_ids:
        try:
            await sync_follows(deps, user_id)
            synced += 1
        except DomainError as exc:
            failed += 1
            log.warning("accounts.follows.sync_failed", user_id=user_id, reason=exc.message)
    return synced, failed
