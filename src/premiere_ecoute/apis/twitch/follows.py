"""Importing a user's Twitch follows of streamers registered here (SPEC §1), at login and by
the hourly job. An import is idempotent: it adds the follows that are new on Twitch and drops
the Twitch-imported ones that ended there, and never touches follows made in the app."""

from __future__ import annotations

import structlog

from premiere_ecoute.accounts import queries
from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.repository import CredentialRepository, store_twitch_follows
from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.core.db import Database

log = structlog.get_logger(__name__)


async def import_twitch_follows(
    db: Database, credentials: CredentialRepository, twitch: TwitchClient, user_id: int
) -> int:
    """Import ``user_id``'s Twitch follows; returns how many registered streamers they follow
    on Twitch (0 for an unknown user or one without Twitch)."""
    async with db.session() as s:
        user = await s.get(User, user_id)
        twitch_id = user.twitch_user_id if user is not None else None
    if twitch_id is None:
        return 0
    token = await credentials.twitch(twitch_id)
    followed = await twitch.get_followed_channels(twitch_id, token)
    async with db.session() as s, s.begin():
        streamers = await queries.streamers_by_twitch_id(
            s, [f.broadcaster_id for f in followed if f.broadcaster_id != twitch_id]
        )
        await store_twitch_follows(s, user_id, set(streamers.values()))
    log.info("accounts.follows.synced", user_id=user_id, streamers=len(streamers))
    return len(streamers)
