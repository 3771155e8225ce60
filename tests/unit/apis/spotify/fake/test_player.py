from __future__ import annotations

from premiere_ecoute.apis.spotify.fake import FakeSpotify
from premiere_ecoute.core.clock import FakeClock

TOKEN = "fake-spotify-bob"


def _loaded(clock: FakeClock, speed: float) -> tuple[FakeSpotify, list[int]]:
    fake = FakeSpotify(clock=clock.monotonic, speed=speed)
    album = next(a for a in fake.catalogue.albums.values() if a.name == "Glass Harvest")
    fake.player_for(TOKEN).load(album.uri, album.tracks, 0)
    return fake, [t.duration_ms for t in album.tracks]


def test_position_advances_with_the_speed_factor(clock: FakeClock) -> None:
    fake, _ = _loaded(clock, speed=50)
    clock.advance(2)
    assert fake.player_for(TOKEN).progress_ms == 100_000


def test_a_track_that_ends_auto_advances_to_the_next(clock: FakeClock) -> None:
    fake, durations = _loaded(clock, speed=100)
    clock.advance((durations[0] + 5_000) / 1000 / 100)
    player = fake.player_for(TOKEN)
    assert player.index == 1
    assert 4_900 <= player.progress_ms <= 5_100
    assert player.is_playing


def test_player_stops_after_the_last_track(clock: FakeClock) -> None:
    fake, durations = _loaded(clock, speed=1000)
    clock.advance(sum(durations) / 1000 / 1000 + 60)
    player = fake.player_for(TOKEN)
    assert player.index == len(durations) - 1
    assert not player.is_playing
    assert player.progress_ms == durations[-1]


def test_skip_to_simulates_a_jump_inside_spotify(clock: FakeClock) -> None:
    fake, _ = _loaded(clock, speed=1)
    clock.advance(30)
    fake.skip_to(TOKEN, 3)
    player = fake.player_for(TOKEN)
    assert (player.index, player.progress_ms, player.is_playing) == (3, 0, True)


def test_each_token_gets_its_own_player(clock: FakeClock) -> None:
    fake, _ = _loaded(clock, speed=1)
    other = fake.player_for("fake-spotify-carol")
    assert other.tracks == ()
    assert fake.player_for(TOKEN).tracks != ()
