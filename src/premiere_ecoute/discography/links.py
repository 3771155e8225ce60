"""Spotify links and URIs: accepted wherever an id is (SPEC §2)."""

from __future__ import annotations

import re
from typing import Literal

from premiere_ecoute.core.errors import N_, ValidationFailed, refuse

Kind = Literal["album", "playlist"]

_ID = r"[A-Za-z0-9]{10,40}"
_URL = re.compile(
    rf"^https?://open\.spotify\.com/(?:intl-[a-z]{{2}}(?:-[A-Za-z]{{2}})?/|[a-z]{{2}}(?:-[A-Za-z]{{2}})?/)?"
    rf"(?P<kind>album|playlist)/(?P<id>{_ID})/?(?:[?#].*)?$"
)
_URI = re.compile(rf"^spotify:(?P<kind>album|playlist):(?P<id>{_ID})$")
_BARE = re.compile(rf"^{_ID}$")
# One sentence per kind: "album" and "playlist" are translated with their sentence.
NOT_A_REF: dict[str, str] = {
    "album": N_("Not a Spotify album id or link: '%(value)s'"),
    "playlist": N_("Not a Spotify playlist id or link: '%(value)s'"),
}
WRONG_KIND: dict[str, str] = {
    "album": N_("This link is a Spotify playlist, not an album"),
    "playlist": N_("This link is a Spotify album, not a playlist"),
}


def parse_spotify_ref(value: str, expected: Kind) -> str:
    """Return the Spotify id of ``value`` (an id, an open.spotify.com link or a spotify: URI).

    Raises ``ValidationFailed`` with a readable message when it is none of these or names
    another kind of object.
    """
    text = value.strip()
    if _BARE.match(text):
        return text
    m = _URL.match(text) or _URI.match(text)
    if not m:
        raise refuse(ValidationFailed, NOT_A_REF[expected], value=value)
    if m.group("kind") != expected:
        raise refuse(ValidationFailed, WRONG_KIND[expected])
    return m.group("id")
