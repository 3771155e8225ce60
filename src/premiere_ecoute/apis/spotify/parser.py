"""Spotify JSON -> discography domain objects. Provider JSON stops here (STYLE rule 5).

Parsers are lenient about missing optional fields (Spotify omits some for some markets and
the contract mock fills others with placeholders) but strict about ids and names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx

from premiere_ecoute.apis.spotify.models import SpotifyUser
from premiere_ecoute.discography.models import (
    AlbumInfo,
    Device,
    PlaybackState,
    PlaylistInfo,
    TrackInfo,
)

Json = Mapping[str, Any]
COVER_SIZE = 300


def parse_release_date(value: str | None) -> dt.date | None:
    """``1981`` -> 1981-01-01, ``1981-12`` -> 1981-12-01, ``1981-12-15`` as is."""
    if not value:
        return None
    parts = value.strip().split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2]) if len(parts) > 2 else 1
        return dt.date(year, month, day)
    except (ValueError, IndexError):
        return None


def pick_cover(images: Any) -> str | None:
    """The image closest to 300 px wide when sizes are known, else the first one."""
    if not isinstance(images, list) or not images:
        return None
    sized = [i for i in images if isinstance(i, dict) and isinstance(i.get("width"), int)]
    if sized:
        best = min(sized, key=lambda i: abs(int(i["width"]) - COVER_SIZE))
        return str(best["url"]).strip()
    first = images[0]
    return str(first["url"]).strip() if isinstance(first, dict) and first.get("url") else None


def _artists(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(str(a["name"]) for a in raw if isinstance(a, dict) and a.get("name"))


def parse_track(raw: Json, *, position: int | None = None) -> TrackInfo:
    """``position`` (1-based) replaces the track number, e.g. for playlist items."""
    number = position if position is not None else int(raw.get("track_number") or 0)
    return TrackInfo(
        spotify_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        track_number=number,
        disc_number=int(raw.get("disc_number") or 1),
        duration_ms=int(raw.get("duration_ms") or 0),
        artists=_artists(raw.get("artists")),
    )


def parse_tracks_page(page: Json) -> tuple[list[TrackInfo], int]:
    """A paging object of simplified tracks -> (tracks, total)."""
    items = page.get("items") or []
    tracks = [parse_track(t) for t in items if isinstance(t, dict) and t.get("id")]
    return tracks, int(page.get("total") or len(items))


def parse_album(raw: Json, tracks: list[TrackInfo] | None = None) -> AlbumInfo:
    """An album object. ``tracks`` (all pages) overrides the embedded first page."""
    if tracks is None:
        page = raw.get("tracks")
        tracks = parse_tracks_page(page)[0] if isinstance(page, dict) else []
    return AlbumInfo(
        spotify_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        artists=_artists(raw.get("artists")),
        release_date=parse_release_date(raw.get("release_date")),
        cover_url=pick_cover(raw.get("images")),
        total_tracks=int(raw.get("total_tracks") or len(tracks)),
        tracks=tuple(tracks),
    )


def parse_album_search(body: Json) -> tuple[list[AlbumInfo], int]:
    """``GET /search?type=album`` -> (albums without tracks, total)."""
    page = body.get("albums") or {}
    items = page.get("items") or []
    albums = [parse_album(a, tracks=[]) for a in items if isinstance(a, dict) and a.get("id")]
    return albums, int(page.get("total") or 0)


def parse_playlist(raw: Json, tracks: list[TrackInfo]) -> PlaylistInfo:
    owner = raw.get("owner") or {}
    return PlaylistInfo(
        spotify_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        owner=str(owner.get("display_name") or owner.get("id") or ""),
        cover_url=pick_cover(raw.get("images")),
        tracks=tuple(tracks),
    )


def parse_playlist_items(page: Json, start_position: int) -> tuple[list[TrackInfo], int, int]:
    """A page of playlist items -> (tracks, items seen, total).

    Episodes, local files and removed tracks are skipped; a track's number is its 1-based
    position in the playlist so sessions can show "track n/N".
    """
    items = page.get("items") or []
    tracks: list[TrackInfo] = []
    position = start_position
    for entry in items:
        if not isinstance(entry, dict):
            continue
        item = entry.get("item") or entry.get("track")
        if not isinstance(item, dict) or entry.get("is_local") or not item.get("id"):
            continue
        if item.get("type", "track") != "track":
            continue
        position += 1
        tracks.append(parse_track(item, position=position))
    return tracks, len(items), int(page.get("total") or 0)


def parse_device(raw: Json) -> Device:
    volume = raw.get("volume_percent")
    return Device(
        id=str(raw.get("id") or ""),
        name=str(raw.get("name") or ""),
        type=str(raw.get("type") or "unknown"),
        is_active=bool(raw.get("is_active")),
        volume_percent=int(volume) if isinstance(volume, int) else None,
    )


def parse_devices(body: Json) -> list[Device]:
    devices = body.get("devices") or []
    return [parse_device(d) for d in devices if isinstance(d, dict) and d.get("id")]


def parse_playback_state(body: Json) -> PlaybackState:
    device = body.get("device")
    context = body.get("context")
    item = body.get("item")
    item = item if isinstance(item, dict) else {}
    return PlaybackState(
        is_playing=bool(body.get("is_playing")),
        device=parse_device(device) if isinstance(device, dict) else None,
        context_uri=str(context["uri"])
        if isinstance(context, dict) and context.get("uri")
        else None,
        track_spotify_id=str(item["id"]) if item.get("id") else None,
        progress_ms=int(body.get("progress_ms") or 0),
        duration_ms=int(item.get("duration_ms") or 0),
        shuffle=bool(body.get("shuffle_state")),
        repeat=str(body.get("repeat_state") or "off"),
    )


def parse_user(raw: Json) -> SpotifyUser:
    return SpotifyUser(
        id=str(raw["id"]),
        display_name=str(raw.get("display_name") or raw["id"]),
        email=raw.get("email"),
        product=raw.get("product"),
        country=raw.get("country"),
    )


def parse_error(response: httpx.Response) -> tuple[str, str | None]:
    """An error answer -> (message, reason). Spotify sends ``{"error": {status, message,
    reason?}}``; anything else gives an empty message."""
    try:
        body = response.json()
    except ValueError:
        return "", None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        reason = error.get("reason")
        return str(error.get("message") or ""), str(reason) if reason else None
    if isinstance(error, str):
        return str(body.get("error_description") or error), None
    return "", None
