"""The fake's Web API routes (``/v1/...``), answering in Spotify's shapes and status codes."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from premiere_ecoute.apis.spotify.fake.catalogue import FakeTrack, paging
from premiere_ecoute.apis.spotify.fake.player import FakePlayer
from premiere_ecoute.apis.spotify.fake.state import FakeSpotify

_BASE62_ID = re.compile(r"^[0-9A-Za-z]{22}$")


class SpotifyHTTPError(Exception):
    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.reason:
            error["reason"] = self.reason
        return JSONResponse({"error": error}, status_code=self.status)


def _state(request: Request) -> FakeSpotify:
    state: FakeSpotify = request.app.state.fake_spotify
    return state


def _token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise SpotifyHTTPError(401, "No token provided")
    return header.removeprefix("Bearer ").strip()


def _any_owner(request: Request) -> str:
    owner = _state(request).owner_of(_token(request))
    if owner is None:
        raise SpotifyHTTPError(401, "The access token expired")
    return owner


def _player(request: Request) -> FakePlayer:
    """The caller's player; app tokens have no user and are refused like Spotify does."""
    state = _state(request)
    token = _token(request)
    owner = state.owner_of(token)
    if owner is None:
        raise SpotifyHTTPError(401, "The access token expired")
    if state.is_app_token(token):
        raise SpotifyHTTPError(401, "Valid user authentication required")
    return state.player(owner)


def _cover_url(request: Request) -> Any:
    # Covers are fetched by browsers: when the API is called in-process, the request's own
    # host is not one a browser can reach, so the fake may be told its public address.
    public = getattr(request.app.state, "public_base_url", None)
    if public:
        return lambda item_id: f"{public}/covers/{item_id}.svg"
    return lambda item_id: str(request.url_for("fake_spotify_cover", item_id=item_id))


def _check_id(value: str) -> str:
    if not _BASE62_ID.match(value):
        raise SpotifyHTTPError(400, "Invalid base62 id")
    return value


def _target_device(player: FakePlayer, device_id: str | None) -> None:
    if device_id:
        if player.find_device(device_id) is None:
            raise SpotifyHTTPError(404, "Device not found")
        player.activate(device_id)
    elif player.active_device is None:
        raise SpotifyHTTPError(
            404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE"
        )


def build_api_router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/albums/{album_id}")
    async def album(request: Request, album_id: str) -> dict[str, Any]:
        state, _ = _state(request), _any_owner(request)
        found = state.catalogue.albums.get(_check_id(album_id))
        if found is None:
            raise SpotifyHTTPError(404, "Resource not found")
        return state.catalogue.album(found, _cover_url(request), state.album_tracks_page)

    @router.get("/albums/{album_id}/tracks")
    async def album_tracks(
        request: Request,
        album_id: str,
        limit: int = Query(20, ge=1, le=50),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        state, _ = _state(request), _any_owner(request)
        found = state.catalogue.albums.get(_check_id(album_id))
        if found is None:
            raise SpotifyHTTPError(404, "Resource not found")
        return state.catalogue.tracks_page(found, offset, limit)

    @router.get("/search")
    async def search(
        request: Request,
        q: str,
        type: str,
        limit: int = Query(5, ge=1, le=10),
        offset: int = Query(0, ge=0, le=1000),
    ) -> dict[str, Any]:
        state, _ = _state(request), _any_owner(request)
        kinds = set(type.split(","))
        if "album" not in kinds:
            raise SpotifyHTTPError(400, "This fake only searches albums")
        found = state.catalogue.search_albums(q)
        items = [
            state.catalogue.simplified_album(a, _cover_url(request))
            for a in found[offset : offset + limit]
        ]
        return {"albums": paging(f"/search?q={q}&type=album", items, offset, limit, len(found))}

    @router.get("/playlists/{playlist_id}")
    async def playlist(request: Request, playlist_id: str) -> dict[str, Any]:
        state, _ = _state(request), _any_owner(request)
        if state.is_app_token(_token(request)):
            # As Spotify now does: items only for the playlist's owner or collaborators.
            raise SpotifyHTTPError(403, "Forbidden")
        found = state.catalogue.playlists.get(_check_id(playlist_id))
        if found is None:
            raise SpotifyHTTPError(404, "Resource not found")
        return state.catalogue.playlist(found, _cover_url(request))

    @router.get("/playlists/{playlist_id}/items")
    async def playlist_items(
        request: Request,
        playlist_id: str,
        limit: int = Query(20, ge=1, le=50),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        state, _ = _state(request), _any_owner(request)
        found = state.catalogue.playlists.get(_check_id(playlist_id))
        if found is None:
            raise SpotifyHTTPError(404, "Resource not found")
        return state.catalogue.playlist_items_page(found, offset, limit, _cover_url(request))

    @router.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        owner = _player(request).owner
        name = owner.removeprefix("fake-spotify-")
        user_id = "fake" + hashlib.sha1(owner.encode()).hexdigest()[:12]
        return {
            "id": user_id,
            "display_name": name,
            "email": f"{user_id}@fake-spotify.invalid",
            "product": "premium",
            "country": "FR",
            "type": "user",
            "uri": f"spotify:user:{user_id}",
            "images": [],
            "followers": {"href": None, "total": 0},
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"},
        }

    @router.get("/me/player", response_model=None)
    async def playback(request: Request) -> Response | dict[str, Any]:
        state, player = _state(request), _player(request)
        current = player.current
        if player.context_uri is None and current is None:
            return Response(status_code=204)
        item = state.catalogue.full_track(current, _cover_url(request)) if current else None
        return player.state_json(item, int(time.time() * 1000))

    @router.get("/me/player/devices")
    async def devices(request: Request) -> dict[str, Any]:
        return {"devices": [d.to_json() for d in _player(request).devices]}

    @router.put("/me/player", status_code=204)
    async def transfer(request: Request, body: dict[str, Any] = Body(...)) -> None:
        player = _player(request)
        ids = body.get("device_ids")
        if not isinstance(ids, list) or len(ids) != 1:
            raise SpotifyHTTPError(400, "Exactly one device id is supported")
        if player.find_device(str(ids[0])) is None:
            raise SpotifyHTTPError(404, "Device not found")
        player.activate(str(ids[0]))
        if body.get("play"):
            player.resume()

    @router.put("/me/player/play", status_code=204)
    async def play(
        request: Request, device_id: str | None = None, body: dict[str, Any] | None = Body(None)
    ) -> None:
        state, player = _state(request), _player(request)
        _target_device(player, device_id)
        body = body or {}
        position_ms = int(body.get("position_ms") or 0)
        if body.get("context_uri"):
            context = str(body["context_uri"])
            tracks = state.catalogue.context_tracks(context)
            if tracks is None:
                raise SpotifyHTTPError(400, "Non supported context uri")
            player.load(context, tracks, _offset_index(tracks, body.get("offset")), position_ms)
        elif body.get("uris"):
            ids = [str(u).rpartition(":")[2] for u in body["uris"]]
            if any(i not in state.catalogue.tracks for i in ids):
                raise SpotifyHTTPError(400, "Invalid track uri")
            chosen = tuple(state.catalogue.tracks[i] for i in ids)
            player.load(None, chosen, _offset_index(chosen, body.get("offset")), position_ms)
        else:
            player.resume()

    @router.put("/me/player/pause", status_code=204)
    async def pause(request: Request, device_id: str | None = None) -> None:
        player = _player(request)
        _target_device(player, device_id)
        player.pause()

    @router.post("/me/player/next", status_code=204)
    async def next_track(request: Request, device_id: str | None = None) -> None:
        player = _player(request)
        _target_device(player, device_id)
        player.skip(1)

    @router.post("/me/player/previous", status_code=204)
    async def previous_track(request: Request, device_id: str | None = None) -> None:
        player = _player(request)
        _target_device(player, device_id)
        player.skip(-1)

    @router.put("/me/player/shuffle", status_code=204)
    async def shuffle(request: Request, state: bool, device_id: str | None = None) -> None:
        player = _player(request)
        _target_device(player, device_id)
        player.shuffle = state

    @router.put("/me/player/repeat", status_code=204)
    async def repeat(request: Request, state: str, device_id: str | None = None) -> None:
        player = _player(request)
        if state not in ("off", "track", "context"):
            raise SpotifyHTTPError(400, "State must be one of track, context or off")
        _target_device(player, device_id)
        player.repeat = state

    return router


def _offset_index(tracks: tuple[FakeTrack, ...], offset: Any) -> int:
    if not isinstance(offset, dict):
        return 0
    if "position" in offset:
        position = int(offset["position"])
        if not 0 <= position < len(tracks):
            raise SpotifyHTTPError(400, "Offset out of range")
        return position
    if "uri" in offset:
        for index, track in enumerate(tracks):
            if track.uri == offset["uri"]:
                return index
        raise SpotifyHTTPError(400, "Offset uri not in context")
    return 0
