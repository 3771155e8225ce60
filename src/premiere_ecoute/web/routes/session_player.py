"""The Spotify player of the control page (SPEC §9): device picker, play/pause.

These are player actions, not session commands: nothing in the session changes, so they call
the ``Playback`` port directly once ``session_access`` has checked the caller (owner or admin),
and they are logged. Spotify's refusals come back as ``ExternalServiceError`` and are shown as
the action's message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import DomainError, InvalidState, ValidationFailed
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import container_of
from premiere_ecoute.web.live import publish_session
from premiere_ecoute.web.routes.forms import csrf_token
from premiere_ecoute.web.routes.session_forms import (
    Access,
    gettext_for,
    refusal,
    render_fragment,
    session_access,
)
from premiere_ecoute.web.streams import player_progress

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)
PLAYER_ACTIONS = ("pause", "resume", "device")
MAX_DEVICE_ID = 200


def _check_player(access: Access, action: str, _: Callable[[str], str]) -> None:
    detail = access.detail
    if detail["playback"] != "spotify":
        raise InvalidState(_("This session is played by hand: use your own player."))
    if detail["status"] == "stopped":
        raise InvalidState(_("This session is over."))
    if action in ("pause", "resume") and detail["status"] != "active":
        raise InvalidState(_("Start the session first."))


def _device_id(form: Mapping[str, Any], _: Callable[[str], str]) -> str:
    device = str(form.get("device_id") or "").strip()
    if not device or len(device) > MAX_DEVICE_ID:
        raise ValidationFailed(_("Choose a device from the list."))
    return device


def _note_playing(c: Any, session_id: int, playing: bool) -> None:
    """Tell this process's copy of the monitor's reading that the player was paused or
    resumed, so the progress bar stops or moves now rather than at the monitor's next look."""
    status = c.services.get("player_status", {}).get(session_id)
    if not status or status.get("progress_ms") is None:
        return
    now = player_progress(status, status.get("position") or 0, status.get("duration_ms"))
    status.update(
        progress_ms=now["progress_ms"],
        is_playing=playing,
        state="playing" if playing else "paused",
        checked_at=dt.datetime.now(dt.UTC).isoformat(),
    )


async def run_player_action(
    request: Request, session_id: int, action: str, user: User, form: Mapping[str, Any]
) -> str:
    """Run one player action for the caller; returns the message to show. Raises DomainError
    (access refused, not a Spotify session, Spotify's refusal)."""
    _ = gettext_for(request)
    access = await session_access(request, session_id)
    _check_player(access, action, _)
    c = container_of(request)
    owner_id = access.owner.id
    playback = c.ports.playback
    fields = {"session_id": session_id, "owner_id": owner_id, "actor": user.login}
    try:
        if action == "pause":
            await playback.pause(owner_id)
            _note_playing(c, session_id, False)
            message = _("Playback paused.")
        elif action == "resume":
            await playback.resume(owner_id)
            _note_playing(c, session_id, True)
            message = _("Playback resumed.")
        else:
            device = _device_id(form, _)
            fields["device_id"] = device
            await playback.transfer(owner_id, device)
            message = _("Playback moved to the chosen device.")
    except DomainError as exc:
        log.info(f"sessions.player.{action}_refused", error=exc.message, **fields)
        raise
    log.info(f"sessions.player.{action}", **fields)
    await publish_session(c, session_id, owner_id)
    return message


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
        _check_player(access, "device", _)
        devices = await container_of(request).ports.playback.list_devices(access.owner.id)
    except DomainError as exc:
        return picker(refusal(exc), [], _(exc.message) if exc.message else exc.message)
    return picker(200, list(devices))
