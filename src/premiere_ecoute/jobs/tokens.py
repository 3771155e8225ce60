"""Keep needed OAuth tokens fresh (SPEC §1): every minute, refresh the Spotify and Twitch
tokens that expire within 10 minutes and are needed (the bot; users with a preparing or
active session). A refresh refused for good marks the connection "needs_reconnect", which
takes it out of this job and makes the account page ask the user to reconnect."""

from __future__ import annotations

import datetime as dt

import structlog

from premiere_ecoute.apis.spotify.oauth import SpotifyReconnectRequired
from premiere_ecoute.apis.twitch.oauth import TokenRefused
from premiere_ecoute.core.errors import N_
from premiere_ecoute.jobs.deps import JobDeps
from premiere_ecoute.sessions.queries import Expiring, credentials_to_refresh

log = structlog.get_logger(__name__)
REFRESH_WITHIN = dt.timedelta(minutes=10)


async def _refresh_spotify(deps: JobDeps, due: Expiring) -> None:
    creds = await deps.credentials.spotify(due.user_id)
    # The client saves the new tokens (encrypted) through its token store.
    await deps.spotify.refresh_user_token(creds)


async def _refresh_twitch(deps: JobDeps, due: Expiring) -> None:
    if not due.twitch_user_id:
        raise TokenRefused(N_("this account has no Twitch user id"), service="twitch")
    token = await deps.credentials.twitch(due.twitch_user_id)
    assert token.refresh_token is not None  # the query only returns refreshable rows
    fresh = await deps.twitch.oauth.refresh(token.refresh_token)
    await deps.credentials.save(
        due.user_id,
        "twitch",
        fresh.access_token,
        fresh.refresh_token or token.refresh_token,
        fresh.expires_at,
    )


async def refresh_expiring(
    deps: JobDeps, *, within: dt.timedelta = REFRESH_WITHIN
) -> dict[str, int]:
    """Refresh what is due now; returns counts (due, refreshed, needs_reconnect, failed)."""
    k = deps.kernel
    async with k.db.session() as s:
        due = await credentials_to_refresh(s, k.clock.now() + within, k.settings.bot_login)
    counts = {"due": len(due), "refreshed": 0, "needs_reconnect": 0, "failed": 0}
    for item in due:
        try:
            if item.provider == "spotify":
                await _refresh_spotify(deps, item)
            else:
                await _refresh_twitch(deps, item)
            counts["refreshed"] += 1
        except (SpotifyReconnectRequired, TokenRefused) as exc:
            await deps.credentials.mark_needs_reconnect(item.user_id, item.provider)
            counts["needs_reconnect"] += 1
            log.warning(
                "accounts.token.needs_reconnect",
                user_id=item.user_id,
                provider=item.provider,
                reason=exc.message,
            )
        except Exception as exc:  # one failure must not stop the others; retried next minute
            counts["failed"] += 1
            log.warning(
                "accounts.token.refresh_failed",
                user_id=item.user_id,
                provider=item.provider,
                error=str(exc)[:200],
            )
    return counts
