"""Who may see a session (SPEC §3, §9, §11), one rule for the pages and the JSON API:

- the control page, its stream and its commands belong to the owner or an admin;
- a session's results (report, series, the session's own live stream) are the owner's and the
  admins' while it is prepared or running, and public once it is stopped: every page visitor,
  every API token. The audience follows a running session on the streamer's live page and
  overlay, which show the compact view, not the report;
- the detail of a session being prepared is the owner's and the admins' (others: 404); a
  started session's detail is readable with any API token (the live page shows it too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import N_, Forbidden, NotFound, refuse
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


def may_read_results(user: User | None, owner_id: int, status: str) -> bool:
    """The report, series and session stream: public once stopped, else owner/admin."""
    return status == "stopped" or may_manage(user, owner_id)


async def check_results_readable(request: Request, session_id: int, user: User) -> None:
    """The API's side of the rule above (the pages use ``session_access``): NotFound for a
    session being prepared by someone else, Forbidden for another's running session."""
    async with deps(request).db.session() as s:
        row = await repo.get_session(s, session_id)
    if may_read_results(user, row.user_id, row.status):
        return
    if row.status == "preparing":
        raise refuse(NotFound, N_("session %(id)s does not exist"), id=session_id)
    raise refuse(
        Forbidden,
        N_(
            "Only the streamer who runs this session and admins can read its results until "
            "it is stopped."
        ),
    )


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
        allowed = (
            may_read_results(user, row.user_id, row.status)
            if public_if_stopped
            else may_manage(user, row.user_id)
        )
        if not allowed:
            raise Forbidden(_("Only the streamer who runs this session can open this page."))
        detail = await queries.session_view(s, row)
    return Access(user=user, owner=owner, detail=detail)
