"""Keep needed OAuth tokens fresh (SPEC §1): every minute, refresh the Spotify and Twitch
tokens that expire within 10 minutes and are needed (the bot; users with a preparing or
active session). A refresh refused for good marks the connection "needs_reconnect", which
takes it out of this job and makes the account page ask the user to reconnect."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import structlog

from premiere_ecoute.accounts.tokens import CredentialRepository, Expiring
from premiere_ecoute.apis.spotify.oauth import SpotifyReconnectRequired
from premiere_ecoute.apis.twitch.oauth import TokenRefused

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

log = structlog.get_logger(__name__)
REFRESH_WITHIN = dt.timedelta(minutes=10)


async def _refresh_spotify(c: Container, repo: CredentialRepository, due: Expiring) -> None:
    creds = await repo.spotify(due.user_id)
    # The client saves the new tokens (encrypted) through its token store.
    await c.services["spotify"].refresh_user_token(creds)


async def _refresh_twitch(c: Container, repo: CredentialRepository, due: Expiring) -> None:
    if not due.twitch_user_id:
        raise TokenRefused("this account has no Twitch user id", service="twitch")
    token = await repo.twitch(due.twitch_user_id)
    assert token.refresh_token is not None  # the query only returns refreshable rows
    fresh = await c.services["twitch"].oauth.refresh(token.refresh_token)
    await repo.save_twitch(
        due.user_id,
        fresh.access_token,
        fresh.refresh_token or token.refresh_token,
        fresh.expires_at,
    )


async def refresh_expiring(
    c: Container, *, within: dt.timedelta = REFRESH_WITHIN
) -> dict[str, int]:
    """Refresh what is due now; returns counts (due, refreshed, needs_reconnect, failed)."""
    repo: CredentialRepository = c.services["credentials"]
    due = await repo.expiring(c.clock.now() + within, c.settings.bot_login)
    counts = {"due": len(due), "refreshed": 0, "needs_reconnect": 0, "failed": 0}
    for item in due:
        try:
            if item.provider == "spotify":
                await _refresh_spotify(c, repo, item)
            else:
                await _refresh_twitch(c, repo, item)
            counts["refreshed"] += 1
        except (SpotifyReconnectRequired, TokenRefused) as exc:
            await repo.mark_needs_reconnect(item.user_id, item.provider)
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


def register_token_jobs(c: Container) -> None:
    """Register the periodic refresh on the container's job app (once)."""
    app = c.jobs
    if getattr(app, "_pe_token_jobs", False):
        return
    app._pe_token_jobs = True

    @app.periodic(cron="* * * * *", periodic_id="refresh-tokens")
    @app.task(name="refresh_tokens", queueing_lock="refresh_tokens", pass_context=False)
    async def refresh_tokens(timestamp: int) -> None:
        counts = await refresh_expiring(c)
        if counts["due"]:
            log.info("jobs.tokens.refreshed", **counts)
