"""The ``api`` fixture is for the API tests only: tests/e2e/test_spotify_playback.py has an
``api`` of its own, so it is not a plugin of the root conftest."""

from __future__ import annotations

from tests.support.api import api

__all__ = ["api"]
