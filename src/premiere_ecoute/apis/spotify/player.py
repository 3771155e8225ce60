"""The user's player: state, devices, transfer, play/pause/next/previous, shuffle, repeat.

Commands are PUT/POST and are never retried (SPEC §7): replaying "next" could skip twice.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from premiere_ecoute.apis.spotify import parser
from premiere_ecoute.apis.spotify.api import SpotifyApi
from premiere_ecoute.discography.models import Device, PlaybackState

RepeatState = Literal["off", "track", "context"]


def _device(device_id: str | None) -> dict[str, Any] | None:
    return {"device_id": device_id} if device_id else None


async def playback_state(api: SpotifyApi, auth: httpx.Auth) -> PlaybackState | None:
    """``None`` when Spotify answers 204: nothing is playing on any device."""
    response = await api.call("GET", "/me/player", auth=auth)
    if response.status_code == 204 or not response.content.strip():
        return None
    return parser.parse_playback_state(response.json())


async def devices(api: SpotifyApi, auth: httpx.Auth) -> list[Device]:
    response = await api.call("GET", "/me/player/devices", auth=auth)
    return parser.parse_devices(response.json())


async def transfer(api: SpotifyApi, auth: httpx.Auth, device_id: str, play: bool = False) -> None:
    await api.call("PUT", "/me/player", auth=auth, json={"device_ids": [device_id], "play": play})


async def play(
    api: SpotifyApi,
    auth: httpx.Auth,
    *,
    context_uri: str | None = None,
    position: int | None = None,
    uris: list[str] | None = None,
    device_id: str | None = None,
    position_ms: int | None = None,
) -> None:
    """Play a context from ``position`` (0-based), or a list of track URIs, or resume."""
    body: dict[str, Any] = {}
    if context_uri is not None:
        body["context_uri"] = context_uri
        if position is not None:
            body["offset"] = {"position": position}
    elif uris is not None:
        body["uris"] = list(uris)
    if position_ms is not None:
        body["position_ms"] = position_ms
    await api.call(
        "PUT", "/me/player/play", auth=auth, params=_device(device_id), json=body or None
    )


async def pause(api: SpotifyApi, auth: httpx.Auth, device_id: str | None = None) -> None:
    await api.call("PUT", "/me/player/pause", auth=auth, params=_device(device_id))


async def next_track(api: SpotifyApi, auth: httpx.Auth, device_id: str | None = None) -> None:
    await api.call("POST", "/me/player/next", auth=auth, params=_device(device_id))


async def previous_track(api: SpotifyApi, auth: httpx.Auth, device_id: str | None = None) -> None:
    await api.call("POST", "/me/player/previous", auth=auth, params=_device(device_id))


async def set_shuffle(
    api: SpotifyApi, auth: httpx.Auth, state: bool, device_id: str | None = None
) -> None:
    params = {"state": "true" if state else "false", **(_device(device_id) or {})}
    await api.call("PUT", "/me/player/shuffle", auth=auth, params=params)


async def set_repeat(
    api: SpotifyApi, auth: httpx.Auth, state: RepeatState, device_id: str | None = None
) -> None:
    params = {"state": state, **(_device(device_id) or {})}
    await api.call("PUT", "/me/player/repeat", auth=auth, params=params)
