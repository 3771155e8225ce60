"""What a deleted account leaves behind, made anonymous (SPEC §1: deletion removes the user's
votes; the privacy page promises it).

The event log is append-only for everything else, but a deleted person's identifiers must not
outlive their account in it: every ``VoteAccepted`` they cast is rewritten to carry a random
pseudonym instead of their viewer id (the same pseudonym for all their votes, so latest-rating
wins and a replay still give the same reports), and the events of their own stream lose their
login, Twitch id and token names. The chat messages they sent, which the inbox keeps (without
their text once processed) until the weekly pruning, are deleted once processed."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ERASED = "erased"

_VOTES = text(
    "UPDATE events SET payload = jsonb_set(payload, '{viewer_id}', to_jsonb(CAST(:alias AS text)))"
    " WHERE type = 'VoteAccepted' AND payload->>'viewer_id' = :viewer_id"
)
# Only the fields that name the person; the rest (ids, roles, times) stays for the audit trail.
_OWN_STREAM = text(
    "UPDATE events SET payload = payload"
    " || CASE WHEN payload ? 'login' THEN jsonb_build_object('login', CAST(:erased AS text))"
    "    ELSE '{}'::jsonb END"
    " || CASE WHEN payload ? 'twitch_user_id' THEN jsonb_build_object('twitch_user_id', null)"
    "    ELSE '{}'::jsonb END"
    " || CASE WHEN payload ? 'name' THEN jsonb_build_object('name', CAST(:erased AS text))"
    "    ELSE '{}'::jsonb END"
    " WHERE stream = :stream"
)
_CHAT = text(
    "DELETE FROM inbox WHERE processed_at IS NOT NULL AND source = 'twitch'"
    " AND payload->'body'->'event'->>'chatter_user_id' = :twitch_id"
)


def pseudonyms(viewer_ids: Sequence[str]) -> dict[str, str]:
    """A fresh random alias per viewer id: nothing derived from the id, so nothing to reverse."""
    return {viewer_id: f"{ERASED}:{secrets.token_hex(8)}" for viewer_id in viewer_ids}


async def anonymise(
    s: AsyncSession,
    user_id: int,
    aliases: dict[str, str],
    twitch_id: str | None,
) -> None:
    """Rewrite the deleted user's traces inside the caller's transaction."""
    for viewer_id, alias in aliases.items():
        await s.execute(_VOTES, {"alias": alias, "viewer_id": viewer_id})
    await s.execute(_OWN_STREAM, {"erased": ERASED, "stream": f"user-{user_id}"})
    if twitch_id:
        await s.execute(_CHAT, {"twitch_id": twitch_id})
