"""What accounts need from the rest of the product, as Protocols that the domains above
implement (bootstrap wires them): accounts import no other domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.messages import Event


class UserActivity(Protocol):
    """What other domains hold of a user: their listening sessions and their ratings."""

    async def is_live(self, s: AsyncSession, user_id: int) -> bool:
        """True while the user runs a listening session."""
        ...

    async def erase(
        self, s: AsyncSession, user_id: int, viewer_ids: Sequence[str], actor_id: int
    ) -> list[Event]:
        """In the caller's transaction, delete the user's sessions and ratings and make what
        the logs keep of them anonymous (``actor_id`` asked for it); returns the events that
        record it."""
        ...
