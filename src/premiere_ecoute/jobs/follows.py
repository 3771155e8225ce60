"""Follows sync (SPEC §1): import each viewer's Twitch follows of streamers registered here.

Hourly, every user with a usable Twitch connection is synced (each login syncs its user too);
a sync is idempotent (``apis.twitch.follows``)."""

from __future__ import annotations

import structlog

from premiere_ecoute.accounts import queries
from premiere_ecoute.apis.twitch.follows import import_twitch_follows
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.jobs.deps import JobDeps

log = structlog.get_logger(__name__)


async def sync_follows(deps: JobDeps, user_id: int) -> int:
    """Import ``user_id``'s Twitch follows (``apis.twitch.follows``, also run at login)."""
    return await import_twitch_follows(deps.kernel.db, deps.credentials, deps.twitch, user_id)


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
