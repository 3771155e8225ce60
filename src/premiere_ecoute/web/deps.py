"""What the web layer needs, typed: built by ``bootstrap`` and handed to ``create_app``.
Routes reach it with ``deps(request)``; nothing is looked up by name."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from procrastinate import App
from starlette.types import ASGIApp

from premiere_ecoute.accounts.repository import CredentialRepository
from premiere_ecoute.apis.spotify.client import SpotifyClient
from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.config import Settings
from premiere_ecoute.core.clock import Clock
from premiere_ecoute.core.command_bus import CommandBus
from premiere_ecoute.core.crypto import Encryptor
from premiere_ecoute.core.db import Database
from premiere_ecoute.core.inbox import GroupCommitWriter
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.sessions.ports import SessionPorts
from premiere_ecoute.telemetry.metrics import Metrics


@dataclass
class WebDeps:
    kernel: Kernel
    ports: SessionPorts
    credentials: CredentialRepository
    encryptor: Encryptor
    breakers: BreakerRegistry
    spotify: SpotifyClient
    twitch: TwitchClient
    inbox_writer: GroupCommitWriter
    jobs: App
    mounts: dict[str, ASGIApp] = field(default_factory=dict)  # e.g. the fakes' pages

    @property
    def settings(self) -> Settings:
        return self.kernel.settings

    @property
    def db(self) -> Database:
        return self.kernel.db

    @property
    def bus(self) -> CommandBus:
        return self.kernel.bus

    @property
    def clock(self) -> Clock:
        return self.kernel.clock

    @property
    def metrics(self) -> Metrics:
        return self.kernel.metrics


def deps(request: Request) -> WebDeps:
    found: WebDeps = request.app.state.deps
    return found


def kernel(request: Request) -> Kernel:
    return deps(request).kernel
