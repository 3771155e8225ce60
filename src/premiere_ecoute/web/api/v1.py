"""JSON API v1 (SPEC §11): drive the whole lifecycle without a browser."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import (
    N_,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
    refuse,
)
from premiere_ecoute.discography.models import Device
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from premiere_ecoute.web.access import check_results_readable
from premiere_ecoute.web.api.v1_schema import (
    COMMAND,
    MAX_PAGE,
    PLAYER,
    READ,
    ChatCommandsBody,
    PlayBody,
    PrepareBody,
    ReportOut,
    SettingsBody,
    StartBody,
    TransferBody,
    VoteBody,
    error_responses,
    scale_arg,
)
from premiere_ecoute.web.auth import api_user
from premiere_ecoute.web.deps import deps

# Every operation can answer these; the 422 replaces FastAPI's own (our body is ErrorBody).
router = APIRouter(prefix="/api/v1", tags=["v1"], responses=error_responses(400, 401, 422))
Caller = Annotated[User, Depends(api_user)]
VENDOR = "/static/vendor"


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI from our own origin (vendored by scripts/build-assets): works offline."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/api/v1/openapi.json",
        title=f"{request.app.title} API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/swagger-favicon.png",
        # The token typed in "Authorize" survives a reload; no call to an online validator.
        swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
    )


@router.get("/me")
async def me(request: Request, user: Caller) -> dict[str, Any]:
    return {
        "id": user.id,
        "login": user.login,
        "display_name": user.display_name,
        "role": user.role,
        "twitch_user_id": user.twitch_user_id,
    }


@router.get("/albums/search", responses=error_responses(502, 503))
async def search_albums(
    request: Request,
    user: Caller,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    c = deps(request)
    found = await c.ports.catalog.search_albums(q, limit)
    return {
        "albums": [
            {
                "spotify_id": a.spotify_id,
                "id": a.spotify_id,
                "name": a.name,
                "artist": a.artist,
                "artists": list(a.artists),
                "release_date": a.release_date.isoformat() if a.release_date else None,
                "cover_url": a.cover_url,
                "total_tracks": a.total_tracks,
            }
            for a in found
        ]
    }


async def _view(request: Request, session_id: int) -> dict[str, Any]:
    async with deps(request).db.session() as s:
        return await queries.session_detail(s, session_id)


@router.post("/sessions", status_code=201, responses=COMMAND)
async def prepare(request: Request, user: Caller, body: PrepareBody) -> dict[str, Any]:
    c = deps(request)
    scale = scale_arg(body.scale)
    row = await c.bus.execute(
        cmd.PrepareSession(
            user_id=user.id,
            album=body.album,
            playlist=body.playlist,
            # An empty list is refused by the domain, not replaced by the default.
            scale="0-10" if scale is None else scale,
            vote_mode=body.vote_mode,
            stream_delay_s=body.stream_delay_s,
            poll_duration_s=body.poll_duration_s,
            auto_advance=body.auto_advance,
            playback=body.playback,
            final_scene_s=body.final_scene_s,
            language=body.language,
        ),
        actor=user.login,
    )
    return await _view(request, row.id)


@router.get("/sessions")
async def list_sessions(
    request: Request,
    user: Caller,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    async with deps(request).db.session() as s:
        return await queries.sessions_of(s, user.id, page=page, per_page=per_page)


@router.get("/sessions/{session_id}", responses=READ)
async def get_session(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    async with deps(request).db.session() as s:
        await queries.check_readable(s, session_id, user.id, user.is_admin)
    return await _view(request, session_id)


@router.patch("/sessions/{session_id}", responses=COMMAND)
async def change_settings(
    request: Request, user: Caller, session_id: int, body: SettingsBody
) -> dict[str, Any]:
    await deps(request).bus.execute(
        cmd.ChangeSettings(
            session_id=session_id,
            actor_id=user.id,
            scale=scale_arg(body.scale),
            vote_mode=body.vote_mode,
            stream_delay_s=body.stream_delay_s,
            poll_duration_s=body.poll_duration_s,
            auto_advance=body.auto_advance,
            playback=body.playback,
            final_scene_s=body.final_scene_s,
            language=body.language,
        ),
        actor=user.login,
    )
    return await _view(request, session_id)


@router.put("/sessions/{session_id}/chat-commands", responses=COMMAND)
async def set_chat_commands(
    request: Request, user: Caller, session_id: int, body: ChatCommandsBody
) -> dict[str, Any]:
    """Switch ``!score``, ``!myvote`` and ``!top`` on or off, and choose the bot's language;
    while the session is preparing or active."""
    enabled = tuple(
        (name, value)
        for name in cmd.CHAT_COMMAND_NAMES
        if (value := getattr(body, name)) is not None
    )
    await deps(request).bus.execute(
        cmd.SetChatCommands(
            session_id=session_id, actor_id=user.id, language=body.language, enabled=enabled
        ),
        actor=user.login,
    )
    return await _view(request, session_id)


@router.post("/sessions/{session_id}/start", responses=COMMAND)
async def start(
    request: Request, user: Caller, session_id: int, body: StartBody | None = None
) -> dict[str, Any]:
    await deps(request).bus.execute(
        cmd.StartSession(
            session_id=session_id, actor_id=user.id, device_id=body.device_id if body else None
        ),
        actor=user.login,
    )
    return await _view(request, session_id)


async def _move(
    request: Request,
    user: User,
    session_id: int,
    direction: Literal["next", "previous", "to"],
    position: int | None = None,
) -> dict[str, Any]:
    await deps(request).bus.execute(
        cmd.ChangeTrack(
            session_id=session_id,
            actor_id=user.id,
            direction=direction,
            position=position,
        ),
        actor=user.login,
    )
    return await _view(request, session_id)


@router.post("/sessions/{session_id}/next", responses=COMMAND)
async def next_track(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    return await _move(request, user, session_id, "next")


@router.post("/sessions/{session_id}/previous", responses=COMMAND)
async def previous_track(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    return await _move(request, user, session_id, "previous")


@router.post("/sessions/{session_id}/play", responses=COMMAND)
async def play_track(
    request: Request, user: Caller, session_id: int, body: PlayBody
) -> dict[str, Any]:
    return await _move(request, user, session_id, "to", body.position)


async def _player(
    request: Request, user: User, session_id: int, action: str, device_id: str | None = None
) -> dict[str, Any]:
    await deps(request).bus.execute(
        cmd.ControlPlayer(
            session_id=session_id, actor_id=user.id, action=action, device_id=device_id
        ),
        actor=user.login,
    )
    return await _view(request, session_id)


@router.post("/sessions/{session_id}/pause", responses=PLAYER)
async def pause(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    """Pause the streamer's Spotify player; the session (track, votes) does not change."""
    return await _player(request, user, session_id, "pause")


@router.post("/sessions/{session_id}/resume", responses=PLAYER)
async def resume(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    """Resume the streamer's Spotify player where it was paused."""
    return await _player(request, user, session_id, "resume")


async def _spotify_owner(request: Request, user: User, session_id: int) -> int:
    """The owner of a session played by Spotify, once the caller may drive its player (the
    owner or an admin): checked before Spotify is asked anything."""
    async with deps(request).db.session() as s:
        await queries.check_readable(s, session_id, user.id, user.is_admin)
        detail = await queries.session_detail(s, session_id)
        owner_id = await queries.owner_of(s, session_id)
    if owner_id is None:
        raise refuse(NotFound, N_("This session no longer has a streamer."))
    if owner_id != user.id and not user.is_admin:
        raise refuse(Forbidden, N_("Only the streamer who runs this session can do that."))
    if detail["playback"] != "spotify":
        raise refuse(InvalidState, N_("This session is played by hand: use your own player."))
    if detail["status"] == "stopped":
        raise refuse(InvalidState, N_("This session is over."))
    return owner_id


def _device(d: Device) -> dict[str, Any]:
    return {
        "id": d.id,
        "name": d.name,
        "type": d.type,
        "is_active": d.is_active,
        "volume_percent": d.volume_percent,
    }


@router.get("/sessions/{session_id}/devices", responses=PLAYER)
async def devices(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    """The streamer's Spotify devices now, the active one flagged (for ``/device``)."""
    owner_id = await _spotify_owner(request, user, session_id)
    found = await deps(request).ports.playback.list_devices(owner_id)
    return {"devices": [_device(d) for d in found]}


@router.post("/sessions/{session_id}/device", responses=PLAYER)
async def transfer(
    request: Request, user: Caller, session_id: int, body: TransferBody
) -> dict[str, Any]:
    """Move the streamer's Spotify playback to ``device_id`` (one of ``/devices``), keeping
    its playing or paused state. An id Spotify does not list now is a 404."""
    device_id = body.device_id.strip()
    if not device_id or len(device_id) > 200:
        raise refuse(ValidationFailed, N_("Choose a device from the list."))
    owner_id = await _spotify_owner(request, user, session_id)
    listed = await deps(request).ports.playback.list_devices(owner_id)
    if device_id not in {d.id for d in listed}:
        raise refuse(NotFound, N_("Spotify lists no device with this id: list them again."))
    return await _player(request, user, session_id, "transfer", device_id)


@router.post("/sessions/{session_id}/stop", responses=COMMAND)
async def stop(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    await deps(request).bus.execute(
        cmd.StopSession(session_id=session_id, actor_id=user.id), actor=user.login
    )
    return await _view(request, session_id)


@router.post("/sessions/{session_id}/votes/open", responses=COMMAND)
async def open_votes(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    await deps(request).bus.execute(
        cmd.SetVoteWindow(session_id=session_id, actor_id=user.id, open=True), actor=user.login
    )
    return await _view(request, session_id)


@router.post("/sessions/{session_id}/votes/close", responses=COMMAND)
async def close_votes(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    await deps(request).bus.execute(
        cmd.SetVoteWindow(session_id=session_id, actor_id=user.id, open=False), actor=user.login
    )
    return await _view(request, session_id)


@router.post("/sessions/{session_id}/votes", status_code=201, responses=COMMAND)
async def vote(request: Request, user: Caller, session_id: int, body: VoteBody) -> dict[str, Any]:
    value = str(body.value).strip()
    if not value:
        raise refuse(ValidationFailed, N_("value is required"))
    outcome = await deps(request).bus.execute(
        cmd.CastVote(session_id=session_id, actor_id=user.id, value=value, source="api"),
        actor=user.login,
    )
    ev = outcome.accepted[0]
    return {
        "session_id": session_id,
        "track_id": ev.track_id,
        "value": ev.value,
        "as": "streamer" if ev.is_streamer else "viewer",
    }


@router.get("/sessions/{session_id}/report", responses={200: {"model": ReportOut}, **READ})
async def report(request: Request, user: Caller, session_id: int) -> dict[str, Any]:
    await check_results_readable(request, session_id, user)
    async with deps(request).db.session() as s:
        return await queries.report(s, session_id)


@router.get("/sessions/{session_id}/series", responses=READ)
async def series(
    request: Request,
    user: Caller,
    session_id: int,
    per: Annotated[str, Query(pattern="^(vote|minute)$")] = "vote",
) -> dict[str, Any]:
    await check_results_readable(request, session_id, user)
    async with deps(request).db.session() as s:
        return {"series": await queries.running_average(s, session_id, per=per)}


@router.delete("/sessions/{session_id}", status_code=204, responses=COMMAND)
async def delete(request: Request, user: Caller, session_id: int) -> Response:
    await deps(request).bus.execute(
        cmd.DeleteSession(session_id=session_id, actor_id=user.id), actor=user.login
    )
    return Response(status_code=204)
