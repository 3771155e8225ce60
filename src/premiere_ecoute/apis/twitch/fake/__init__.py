"""A runnable fake of Twitch (OAuth, Helix, EventSub webhook + WebSocket, chat page, polls)."""

from premiere_ecoute.apis.twitch.fake.app import create_fake_twitch_app
from premiere_ecoute.apis.twitch.fake.identity import fake_broadcaster_type, fake_user_id
from premiere_ecoute.apis.twitch.fake.state import DEFAULT_DEMO_LOGINS, FakeTwitch

__all__ = [
    "DEFAULT_DEMO_LOGINS",
    "FakeTwitch",
    "create_fake_twitch_app",
    "fake_broadcaster_type",
    "fake_user_id",
]
