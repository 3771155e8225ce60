"""The webhook stands for Twitch's traffic: the Twitch settings (a bot account is set)."""

from __future__ import annotations

import pytest

from premiere_ecoute.config import Settings
from tests.support.twitch_world import twitch_settings


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return twitch_settings(clean_db)
