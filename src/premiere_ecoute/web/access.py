"""Who may see a session's pages (SPEC §3, §9): the control page, its stream and its commands
belong to the owner or an admin; the report of a stopped session is public, other reports
are owner/admin only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import Forbidden, NotFound
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import gettext_for


@dataclass
class Access:
    """A session as a page shows it, and who is looking (``user`` is None when anonymous)."""

    user: User | None
    owner: User
    detail: dict[str, Any]

    @property
    def session_id(self) -> int:
        return int(self.detail["id"])


def may_manage(user: User | None, owner_id: int) -> bool:
    return user is not None and (user.id == owner_id or user.is_admin)


async def session_access(
    request: Request, session_id: int, *, public_if_stopped: bool = False
) -> Access:
    """The session and its owner; raises NotFound, or Forbidden unless the caller may see it."""
    _ = gettext_for(request)
    user = await page_user(request)
    async with deps(request).db.session() as s:
        row = await repo.get_session(s, session_id)
        owner = await repo.user(s, row.user_id)
        if owner is None:
            raise NotFound(_("This session no longer has a streamer."))
        public = public_if_stopped and row.status == "stopped"
        if not public and not may_manage(user, row.user_id):
            raise Forbidden(_("Only the streamer who runs this session can open this page."))
        detail = await queries.session_view(s, row)
    return Access(user=user, owner=owner, detail=detail)
