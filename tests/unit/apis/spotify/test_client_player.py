from __future__ import annotations

from premiere_ecoute.apis.spotify import SpotifyClient, SpotifyCredentials
from premiere_ecoute.apis.spotify.fake import FakeSpotify
from premiere_ecoute.core.clock import FakeClock


def _album_uri(fake: FakeSpotify, name: str) -> tuple[str, list[str]]:
    album = next(a for a in fake.catalogue.albums.values() if a.name == name)
    return album.uri, [t.id for t in album.tracks]


async def test_playback_state_is_none_before_anything_plays(
    client: SpotifyClient, creds: SpotifyCredentials
) -> None:
    assert await client.playback_state(creds) is None


async def test_new_fake_user_has_one_active_fake_speaker(
    client: SpotifyClient, creds: SpotifyCredentials
) -> None:
    devices = await client.devices(creds)
    assert [(d.name, d.is_active) for d in devices] == [("Fake Speaker", True)]


async def test_play_context_from_an_offset_then_pause(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify, clock: FakeClock
) -> None:
    uri, ids = _album_uri(fake, "Glass Harvest")
    await client.play(creds, context_uri=uri, position=2)
    clock.advance(10)
    state = await client.playback_state(creds)
    assert state is not None and state.is_playing
    assert (state.context_uri, state.track_spotify_id) == (uri, ids[2])
    assert 9_000 <= state.progress_ms <= 11_000
    await client.pause(creds)
    clock.advance(10)
    paused = await client.playback_state(creds)
    assert paused is not None and not paused.is_playing
    assert paused.progress_ms == state.progress_ms


async def test_next_and_previous_move_within_the_context(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    uri, ids = _album_uri(fake, "Harbour Lights at Dusk")
    await client.play(creds, context_uri=uri, position=0)
    await client.next_track(creds)
    await client.next_track(creds)
    await client.previous_track(creds)
    state = await client.playback_state(creds)
    assert state is not None and state.track_spotify_id == ids[1]


async def test_shuffle_and_repeat_are_reflected_in_the_state(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    uri, _ = _album_uri(fake, "Glass Harvest")
    await client.play(creds, context_uri=uri, position=0)
    await client.set_shuffle(creds, True)
    await client.set_repeat(creds, "context")
    state = await client.playback_state(creds)
    assert state is not None and (state.shuffle, state.repeat) == (True, "context")
    await client.set_shuffle(creds, False)
    await client.set_repeat(creds, "off")
    state = await client.playback_state(creds)
    assert state is not None and (state.shuffle, state.repeat) == (False, "off")


async def test_transfer_playback_activates_the_chosen_device(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    from premiere_ecoute.apis.spotify.fake.player import FakeDevice

    player = fake.player_for(creds.access_token)
    player.devices.append(FakeDevice("laptop-1", "Laptop", "Computer"))
    await client.transfer_playback(creds, "laptop-1")
    devices = {d.id: d.is_active for d in await client.devices(creds)}
    assert devices["laptop-1"] is True
    assert sum(devices.values()) == 1


async def test_play_track_uris(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    _, ids = _album_uri(fake, "Concrete Orchard")
    await client.play(creds, uris=[f"spotify:track:{ids[5]}", f"spotify:track:{ids[6]}"])
    state = await client.playback_state(creds)
    assert state is not None and state.track_spotify_id == ids[5]


async def test_current_user_is_premium_in_the_fake(
    client: SpotifyClient, creds: SpotifyCredentials
) -> None:
    user = await client.current_user(creds)
    assert user.display_name == "alice"
    assert user.product == "premium"
