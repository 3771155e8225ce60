"""Spotify Web API client, OAuth helpers, session adapters and a fake Spotify for development."""

from premiere_ecoute.accounts.models import SpotifyCredentials
from premiere_ecoute.apis.spotify.adapters import SpotifyCatalog, SpotifyPlayback
from premiere_ecoute.apis.spotify.auth import InMemoryTokenStore, SpotifyTokenStore
from premiere_ecoute.apis.spotify.client import SpotifyClient, SpotifyMetrics
from premiere_ecoute.apis.spotify.models import SpotifyUser, TokenSet
from premiere_ecoute.apis.spotify.oauth import SCOPES, SpotifyReconnectRequired

__all__ = [
    "SCOPES",
    "InMemoryTokenStore",
    "SpotifyCatalog",
    "SpotifyClient",
    "SpotifyCredentials",
    "SpotifyMetrics",
    "SpotifyPlayback",
    "SpotifyReconnectRequired",
    "SpotifyTokenStore",
    "SpotifyUser",
    "TokenSet",
]
