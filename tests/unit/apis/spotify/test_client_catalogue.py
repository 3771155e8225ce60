from __future__ import annotations

import datetime as dt

import pytest

from premiere_ecoute.apis.spotify import InMemoryTokenStore, SpotifyClient, SpotifyCredentials
from premiere_ecoute.apis.spotify.fake import Catalogue, FakeSpotify, create_fake_spotify_app
from premiere_ecoute.apis.spotify.fake.catalogue import FakeAlbum, FakePlaylist, FakeTrack
from premiere_ecoute.apis.spotify.fake.testing import fake_http_client
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.errors import ExternalServiceError
from premiere_ecoute.core.resilience import BreakerRegistry

from .conftest import BASE


def _first_album(fake: FakeSpotify, name: str) -> FakeAlbum:
    return next(a for a in fake.catalogue.albums.values() if a.name == name)


async def test_album_is_parsed_with_all_tracks_across_pages(
    client: SpotifyClient, fake: FakeSpotify
) -> None:
    source = _first_album(fake, "Concrete Orchard")
    album = await client.get_album(source.id)
    assert album.name == "Concrete Orchard"
    assert album.artist == "Nadia Okafor"
    assert album.release_date == dt.date(2023, 10, 6)
    assert album.total_tracks == len(source.tracks) == len(album.tracks)
    assert [t.track_number for t in album.tracks] == list(range(1, len(source.tracks) + 1))
    assert [t.spotify_id for t in album.tracks] == [t.id for t in source.tracks]
    assert album.cover_url is not None and "size=300" in album.cover_url
    # The fake embeds 4 tracks; the other 7 come from one /tracks page of up to 50.
    assert [p for _, p in fake.requests].count(f"/v1/albums/{source.id}/tracks") == 1


async def test_year_only_release_date_becomes_january_first(
    client: SpotifyClient, fake: FakeSpotify
) -> None:
    album = await client.get_album(_first_album(fake, "Low Frequency Weather").id)
    assert album.release_date == dt.date(2016, 1, 1)
    assert album.artists == ("Kestrel Motel", "Ines Barrow")


async def test_unknown_album_is_a_clear_error(client: SpotifyClient) -> None:
    with pytest.raises(ExternalServiceError) as info:
        await client.get_album("0000000000000000000000")
    assert info.value.message == "Spotify could not find that item"


async def test_search_matches_artist_substring_case_insensitively(client: SpotifyClient) -> None:
    found = await client.search_albums("okaFOR")
    assert [a.name for a in found] == ["Concrete Orchard"]
    assert found[0].tracks == ()


async def test_app_token_is_fetched_once_and_reused(
    client: SpotifyClient, fake: FakeSpotify
) -> None:
    await client.search_albums("glass")
    await client.search_albums("harbour")
    assert fake.requests.count(("POST", "/api/token")) == 1


async def test_app_token_is_renewed_a_minute_before_it_expires(
    client: SpotifyClient, fake: FakeSpotify, clock: FakeClock
) -> None:
    await client.search_albums("glass")
    clock.advance(3600 - 59)
    await client.search_albums("glass")
    assert fake.requests.count(("POST", "/api/token")) == 2


async def test_playlist_tracks_come_from_items_in_playlist_order(
    client: SpotifyClient, fake: FakeSpotify, creds: SpotifyCredentials
) -> None:
    source = next(iter(fake.catalogue.playlists.values()))
    playlist = await client.get_playlist(source.id, creds)
    assert playlist.name == "Late Night Premieres"
    assert playlist.owner == "Fake Curator"
    assert [t.spotify_id for t in playlist.tracks] == [t.id for t in source.tracks]
    assert [t.track_number for t in playlist.tracks] == list(range(1, len(source.tracks) + 1))
    assert ("GET", f"/v1/playlists/{source.id}/items") in fake.requests


def _big_catalogue(albums: int, playlist_tracks: int) -> Catalogue:
    made: list[FakeAlbum] = []
    for n in range(albums):
        album_id = f"Echo{n:04d}".ljust(22, "x")
        track = FakeTrack(f"Trk{n:04d}".ljust(22, "y"), f"Song {n}", 180_000, 1, album_id)
        made.append(
            FakeAlbum(
                album_id,
                f"Echo Chamber {n}",
                (("artist0000000000000000", "Echoes"),),
                "2020-01-01",
                "day",
                "Label",
                "#000000",
                (track,),
            )
        )
    tracks = tuple(a.tracks[0] for a in made)[:playlist_tracks]
    playlist = FakePlaylist("BigList".ljust(22, "z"), "Long", "me", "Me", "", "#111111", tracks)
    return Catalogue(made, [playlist])


@pytest.fixture
async def big_client(clock: FakeClock) -> tuple[SpotifyClient, FakeSpotify]:
    fake = FakeSpotify(catalogue=_big_catalogue(60, 55), clock=clock.monotonic)
    http = fake_http_client(create_fake_spotify_app(fake), BASE)
    client = SpotifyClient(
        http,
        api_url=f"{BASE}/v1",
        accounts_url=BASE,
        client_id="a",
        client_secret="b",
        token_store=InMemoryTokenStore(),
        breakers=BreakerRegistry(clock=clock.monotonic),
        now=clock.now,
    )
    return client, fake


async def test_search_asks_at_most_ten_per_request_and_pages_for_more(
    big_client: tuple[SpotifyClient, FakeSpotify],
) -> None:
    client, fake = big_client
    found = await client.search_albums("echo chamber", limit=25)
    assert len(found) == len({a.spotify_id for a in found}) == 25
    assert [p for _, p in fake.requests].count("/v1/search") == 3


async def test_playlist_items_are_paged(
    big_client: tuple[SpotifyClient, FakeSpotify], creds: SpotifyCredentials
) -> None:
    client, fake = big_client
    playlist = await client.get_playlist("BigList".ljust(22, "z"), creds)
    assert len(playlist.tracks) == 55
    assert [p for _, p in fake.requests].count(
        f"/v1/playlists/{'BigList'.ljust(22, 'z')}/items"
    ) == 2
