"""The fake Spotify's catalogue: fixture albums and playlists, rendered in Spotify's shapes.

Fixture files use a compact format of our own (``data/*.json``); this module turns them into
the JSON the real Web API returns, so the real client and parser are exercised unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

Json = dict[str, Any]
# Builds an absolute URL for a cover image from a Spotify id (depends on where we are mounted).
CoverUrl = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class FakeTrack:
    id: str
    name: str
    duration_ms: int
    track_number: int
    album_id: str

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"


@dataclass(frozen=True, slots=True)
class FakeAlbum:
    id: str
    name: str
    artists: tuple[tuple[str, str], ...]  # (id, name)
    release_date: str
    release_date_precision: str
    label: str
    cover_color: str
    tracks: tuple[FakeTrack, ...]

    @property
    def uri(self) -> str:
        return f"spotify:album:{self.id}"


@dataclass(frozen=True, slots=True)
class FakePlaylist:
    id: str
    name: str
    owner_id: str
    owner_name: str
    description: str
    cover_color: str
    tracks: tuple[FakeTrack, ...]

    @property
    def uri(self) -> str:
        return f"spotify:playlist:{self.id}"


class Catalogue:
    def __init__(self, albums: list[FakeAlbum], playlists: list[FakePlaylist]) -> None:
        self.albums = {a.id: a for a in albums}
        self.playlists = {p.id: p for p in playlists}
        self.tracks = {t.id: t for a in albums for t in a.tracks}

    @classmethod
    def load(cls) -> Catalogue:
        """Read the bundled fixtures (``fake/data``)."""
        data = resources.files(__package__).joinpath("data")
        raw_albums = json.loads(data.joinpath("albums.json").read_text("utf-8"))["albums"]
        albums = [_album(a) for a in raw_albums]
        tracks = {t.id: t for a in albums for t in a.tracks}
        raw_lists = json.loads(data.joinpath("playlists.json").read_text("utf-8"))["playlists"]
        playlists = [
            FakePlaylist(
                id=p["id"],
                name=p["name"],
                owner_id=p["owner"]["id"],
                owner_name=p["owner"]["display_name"],
                description=p.get("description", ""),
                cover_color=p.get("cover_color", "#444444"),
                tracks=tuple(tracks[t] for t in p["track_ids"]),
            )
            for p in raw_lists
        ]
        return cls(albums, playlists)

    def search_albums(self, query: str) -> list[FakeAlbum]:
        """Case-insensitive substring match on album name or any artist name."""
        needle = query.strip().casefold()
        return [
            a
            for a in self.albums.values()
            if needle in a.name.casefold() or any(needle in n.casefold() for _, n in a.artists)
        ]

    def context_tracks(self, context_uri: str) -> tuple[FakeTrack, ...] | None:
        kind, _, item_id = context_uri.removeprefix("spotify:").partition(":")
        if kind == "album" and item_id in self.albums:
            return self.albums[item_id].tracks
        if kind == "playlist" and item_id in self.playlists:
            return self.playlists[item_id].tracks
        return None

    def cover_color(self, item_id: str) -> str | None:
        if item_id in self.albums:
            return self.albums[item_id].cover_color
        if item_id in self.playlists:
            return self.playlists[item_id].cover_color
        return None

    # Rendering in Spotify's shapes --------------------------------------------------

    def simplified_album(self, album: FakeAlbum, cover_url: CoverUrl) -> Json:
        return {
            "album_type": "album",
            "total_tracks": len(album.tracks),
            "available_markets": ["FR", "GB", "US"],
            "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
            "href": f"https://api.spotify.com/v1/albums/{album.id}",
            "id": album.id,
            "images": _images(cover_url(album.id)),
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": album.release_date_precision,
            "type": "album",
            "uri": album.uri,
            "artists": [_artist(i, n) for i, n in album.artists],
        }

    def album(self, album: FakeAlbum, cover_url: CoverUrl, first_page: int) -> Json:
        body = self.simplified_album(album, cover_url)
        body.update(
            {
                "tracks": self.tracks_page(album, 0, first_page),
                "copyrights": [{"text": f"© {album.release_date[:4]} {album.label}", "type": "C"}],
                "external_ids": {"upc": "00000" + album.id[:7]},
                "genres": [],
                "label": album.label,
                "popularity": 42,
            }
        )
        return body

    def simplified_track(self, track: FakeTrack) -> Json:
        album = self.albums[track.album_id]
        return {
            "artists": [_artist(i, n) for i, n in album.artists],
            "available_markets": ["FR", "GB", "US"],
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": False,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
            "href": f"https://api.spotify.com/v1/tracks/{track.id}",
            "id": track.id,
            "is_playable": True,
            "name": track.name,
            "preview_url": None,
            "track_number": track.track_number,
            "type": "track",
            "uri": track.uri,
            "is_local": False,
        }

    def full_track(self, track: FakeTrack, cover_url: CoverUrl) -> Json:
        body = self.simplified_track(track)
        body["album"] = self.simplified_album(self.albums[track.album_id], cover_url)
        body["popularity"] = 37
        body["external_ids"] = {"isrc": "XX" + track.id[:10].upper()}
        return body

    def tracks_page(self, album: FakeAlbum, offset: int, limit: int) -> Json:
        items = [self.simplified_track(t) for t in album.tracks[offset : offset + limit]]
        return paging(f"/albums/{album.id}/tracks", items, offset, limit, len(album.tracks))

    def playlist_items_page(
        self, playlist: FakePlaylist, offset: int, limit: int, cover_url: CoverUrl
    ) -> Json:
        items = [
            {
                "added_at": "2026-01-15T20:00:00Z",
                "added_by": {"id": playlist.owner_id, "type": "user"},
                "is_local": False,
                "item": self.full_track(t, cover_url),
            }
            for t in playlist.tracks[offset : offset + limit]
        ]
        return paging(f"/playlists/{playlist.id}/items", items, offset, limit, len(playlist.tracks))

    def playlist(self, playlist: FakePlaylist, cover_url: CoverUrl) -> Json:
        return {
            "collaborative": False,
            "description": playlist.description,
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist.id}"},
            "href": f"https://api.spotify.com/v1/playlists/{playlist.id}",
            "id": playlist.id,
            "images": _images(cover_url(playlist.id))[:1],
            "name": playlist.name,
            "owner": {
                "id": playlist.owner_id,
                "display_name": playlist.owner_name,
                "type": "user",
                "uri": f"spotify:user:{playlist.owner_id}",
            },
            "public": True,
            "snapshot_id": "fake-snapshot-1",
            "items": self.playlist_items_page(playlist, 0, 100, cover_url),
            "type": "playlist",
            "uri": playlist.uri,
        }


def paging(path: str, items: list[Json], offset: int, limit: int, total: int) -> Json:
    base = f"https://api.spotify.com/v1{path}"
    has_next = offset + limit < total
    return {
        "href": f"{base}?offset={offset}&limit={limit}",
        "items": items,
        "limit": limit,
        "next": f"{base}?offset={offset + limit}&limit={limit}" if has_next else None,
        "offset": offset,
        "previous": f"{base}?offset={max(0, offset - limit)}&limit={limit}" if offset else None,
        "total": total,
    }


def _artist(artist_id: str, name: str) -> Json:
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "href": f"https://api.spotify.com/v1/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


def _images(url: str) -> list[Json]:
    # Widest first, as Spotify orders them; the same SVG scales to every size.
    return [{"url": f"{url}?size={size}", "height": size, "width": size} for size in (640, 300, 64)]


def _album(raw: Json) -> FakeAlbum:
    return FakeAlbum(
        id=raw["id"],
        name=raw["name"],
        artists=tuple((a["id"], a["name"]) for a in raw["artists"]),
        release_date=raw["release_date"],
        release_date_precision=raw["release_date_precision"],
        label=raw.get("label", ""),
        cover_color=raw.get("cover_color", "#444444"),
        tracks=tuple(
            FakeTrack(t["id"], t["name"], int(t["duration_ms"]), n, raw["id"])
            for n, t in enumerate(raw["tracks"], start=1)
        ),
    )
