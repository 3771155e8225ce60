"""A fake Spotify (accounts + Web API + simulated player) for development and tests."""

from premiere_ecoute.apis.spotify.fake.catalogue import Catalogue
from premiere_ecoute.apis.spotify.fake.routes import create_fake_spotify_app
from premiere_ecoute.apis.spotify.fake.state import FakeSpotify

__all__ = ["Catalogue", "FakeSpotify", "create_fake_spotify_app"]
