"""What jobs need, typed: built by ``bootstrap`` and bound when a worker registers tasks."""

from __future__ import annotations

from dataclasses import dataclass

from procrastinate import App

from premiere_ecoute.accounts.repository import CredentialRepository
from premiere_ecoute.apis.spotify.client import SpotifyClient
from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.sessions.ports import SessionPorts
from premiere_ecoute.sessions.subscriptions import SubscriptionKeeper


@dataclass
class JobDeps:
    kernel: Kernel
    ports: SessionPorts
    credentials: CredentialRepository
    spotify: SpotifyClient
    twitch: TwitchClient
    subscriptions: SubscriptionKeeper
    jobs: App
