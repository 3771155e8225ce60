"""Spotify links and URIs: accepted wherever an id is (SPEC §2)."""

from __future__ import annotations

import re
from typing import Literal

from premiere_ecoute.core.errors import ValidationFailed

Kind = Literal["album", "playlist"]

_ID = r"[A-Za-z0-9]{10,40}"
_URL = re.compile(
    rf"^https?://open\.spotify\.com/(?:intl-[a-z]{{2}}(?:-[A-Za-z]{{2}})?/|[a-z]{{2}}(?:-[A-Za-z]{{2}})?/)?"
    rf"(?P<kind>album|playlist)/(?P<id>{_ID})/?(?:[?#].*)?$"
)
_URI = re.compile(rf"^spotify:(?P<kind>album|playlist):(?P<id>{_ID})$")
_BARE = re.compile(rf"^{_ID}$")


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
        raise ValidationFailed(f"Not a Spotify {expected} id or link: {value!r}")
    if m.group("kind") != expected:
        article = "an" if expected == "album" else "a"
        raise ValidationFailed(
            f"This link is a Spotify {m.group('kind')}, not {article} {expected}"
        )
    return m.group("id")
