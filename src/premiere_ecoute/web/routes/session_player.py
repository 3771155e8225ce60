"""The device picker of the control page (SPEC §9): the devices Spotify lists now. Pausing,
resuming and moving the player are ``ControlPlayer`` commands (``session_actions``)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from premiere_ecoute.core.errors import DomainError, InvalidState
from premiere_ecoute.web.access import session_access
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    csrf_token,
    gettext_for,
    refusal,
    render_fragment,
    translate_error,
)

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/sessions/{session_id:int}/devices")
async def device_picker(request: Request, session_id: int) -> HTMLResponse:
    """The device picker again, with the devices Spotify lists now (its refresh button)."""
    _ = gettext_for(request)

    def picker(status: int, devices: list[Any], error: str | None = None) -> HTMLResponse:
        return render_fragment(
            request,
            "_session_devices.html",
            status,
            session_id=session_id,
            devices=devices,
            error=error,
            csrf_token=csrf_token(request),
        )

    if await page_user(request) is None:
        return picker(401, [], _("Please log in."))
    try:
        access = await session_access(request, session_id)
        if access.detail["playback"] != "spotify":
            raise InvalidState(_("This session is played by hand: use your own player."))
        if access.detail["status"] == "stopped":
            raise InvalidState(_("This session is over."))
        devices = await deps(request).ports.playback.list_devices(access.owner.id)
    except DomainError as exc:
        return picker(refusal(exc), [], translate_error(request, exc))
    return picker(200, list(devices))
