"""What sessions hold of a user, for accounts (``accounts.ports.UserActivity``): whether they
are live, and the erasure of their sessions and ratings when their account is deleted.

The event log is append-only for everything else, but a deleted person's identifiers must not
outlive their account in it: every ``VoteAccepted`` they cast is rewritten to carry a random
pseudonym instead of their viewer id (the same pseudonym for all their votes, so latest rating
wins and a replay still give the same reports). The chat lines they sent, which the inbox
keeps (without their text once processed) until the weekly pruning, are deleted."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.messages import Event
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.events import SessionDeleted, ViewerRatingsErased
from premiere_ecoute.sessions.voting import rebuild_report

ERASED = "erased"


def pseudonyms(viewer_ids: Sequence[str]) -> dict[str, str]:
    """A fresh random alias per viewer id: nothing derived from the id, so nothing to reverse."""
    return {viewer_id: f"{ERASED}:{secrets.token_hex(8)}" for viewer_id in viewer_ids}


class SessionsOfUser:
    async def is_live(self, s: AsyncSession, user_id: int) -> bool:
        return await repo.active_session_id(s, user_id) is not None

    async def erase(
        self, s: AsyncSession, user_id: int, viewer_ids: Sequence[str], actor_id: int
    ) -> list[Event]:
        aliases = pseudonyms(viewer_ids)
        # First, before any session row is locked: this may read much of the log and inbox.
        await repo.anonymise_votes(s, aliases)
        for viewer_id in viewer_ids:
            if not viewer_id.startswith("user:"):
                await repo.forget_chat(s, viewer_id)
        recorded: list[Event] = []
        rated = await repo.lock_sessions_rated_by(s, viewer_ids, except_user=user_id)
        await repo.delete_ratings_of(s, viewer_ids)
        for session_id in rated:
            # Their ratings leave the other streamers' reports too: counters rebuilt from
            # what remains, and the log says so (a replay gives the same report).
            await rebuild_report(s, session_id)
            recorded.append(
                ViewerRatingsErased(
                    session_id=session_id, viewer_ids=tuple(aliases[v] for v in viewer_ids)
                )
            )
        for session_id in await repo.delete_sessions_of(s, user_id):
            recorded.append(
                SessionDeleted(
                    session_id=session_id, by_user_id=actor_id, by_admin=actor_id != user_id
                )
            )
        return recorded
