from __future__ import annotations

import pytest

from premiere_ecoute.core.errors import ValidationFailed
from premiere_ecoute.discography.links import parse_spotify_ref

ID = "4aawyAB9vmqN3uQ7FjRGTy"


@pytest.mark.parametrize(
    "ref",
    [
        ID,
        f"spotify:album:{ID}",
        f"https://open.spotify.com/album/{ID}",
        f"https://open.spotify.com/album/{ID}?si=abc123",
        f"https://open.spotify.com/intl-fr/album/{ID}",
        f"  https://open.spotify.com/album/{ID}/  ",
    ],
)
def test_album_ids_links_and_uris_give_the_id(ref: str) -> None:
    assert parse_spotify_ref(ref, "album") == ID


def test_playlist_link_is_accepted_as_a_playlist_only() -> None:
    link = f"https://open.spotify.com/playlist/{ID}?si=x"
    assert parse_spotify_ref(link, "playlist") == ID
    with pytest.raises(ValidationFailed, match="playlist, not an album"):
        parse_spotify_ref(link, "album")


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "hello world",
        "https://example.com/album/" + ID,
        "spotify:track:" + ID,
        "https://open.spotify.com/artist/" + ID,
    ],
)
def test_anything_else_is_refused_with_a_message(ref: str) -> None:
    with pytest.raises(ValidationFailed, match="Spotify"):
        parse_spotify_ref(ref, "album")
