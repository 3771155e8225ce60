"""Session commands (SPEC §3). Validation here is about shape; state rules live in handlers."""

from __future__ import annotations

import dataclasses
from typing import Literal

from premiere_ecoute.core.errors import N_, ValidationFailed, refuse
from premiere_ecoute.core.messages import Command
from premiere_ecoute.sessions.scores.vod import parse_offset, parse_vod_url

VOTE_MODES = ("chat", "poll", "both")
PLAYBACKS = ("spotify", "manual")
LANGUAGES = ("en", "fr", "it")
FINAL_SCENE_MAX_S = 600


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrepareSession(Command):
    user_id: int
    album: str | None = None
    playlist: str | None = None
    scale: str | tuple[str, ...] = "0-10"
    vote_mode: str = "chat"
    stream_delay_s: int = 0
    poll_duration_s: int = 120
    auto_advance: bool = True
    playback: str | None = None
    final_scene_s: int = 60
    language: str = "en"

    def validate(self) -> None:
        if bool(self.album) == bool(self.playlist):
            raise refuse(
                ValidationFailed, N_("give exactly one of album or playlist (an id or a link)")
            )
        validate_settings(
            vote_mode=self.vote_mode,
            stream_delay_s=self.stream_delay_s,
            poll_duration_s=self.poll_duration_s,
            playback=self.playback,
            final_scene_s=self.final_scene_s,
            language=self.language,
        )


def validate_settings(
    *,
    vote_mode: str | None = None,
    stream_delay_s: int | None = None,
    poll_duration_s: int | None = None,
    playback: str | None = None,
    final_scene_s: int | None = None,
    language: str | None = None,
) -> None:
    if vote_mode is not None and vote_mode not in VOTE_MODES:
        raise refuse(
            ValidationFailed,
            N_("vote_mode must be one of %(choices)s"),
            choices=", ".join(VOTE_MODES),
        )
    if stream_delay_s is not None and not 0 <= stream_delay_s <= 60:
        raise refuse(ValidationFailed, N_("stream_delay_s must be between 0 and 60 seconds"))
    if poll_duration_s is not None and not 15 <= poll_duration_s <= 1800:
        raise refuse(ValidationFailed, N_("poll_duration_s must be between 15 and 1800 seconds"))
    if playback is not None and playback not in PLAYBACKS:
        raise refuse(
            ValidationFailed,
            N_("playback must be one of %(choices)s"),
            choices=", ".join(PLAYBACKS),
        )
    if final_scene_s is not None and not 0 <= final_scene_s <= FINAL_SCENE_MAX_S:
        raise refuse(
            ValidationFailed,
            N_("final_scene_s must be between 0 and %(max)s seconds"),
            max=FINAL_SCENE_MAX_S,
        )
    if language is not None and language not in LANGUAGES:
        raise refuse(
            ValidationFailed,
            N_("language must be one of %(choices)s"),
            choices=", ".join(LANGUAGES),
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionCommand(Command):
    session_id: int
    actor_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeSettings(SessionCommand):
    scale: str | tuple[str, ...] | None = None
    vote_mode: str | None = None
    stream_delay_s: int | None = None
    poll_duration_s: int | None = None
    auto_advance: bool | None = None
    playback: str | None = None
    final_scene_s: int | None = None
    language: str | None = None

    def validate(self) -> None:
        validate_settings(
            vote_mode=self.vote_mode,
            stream_delay_s=self.stream_delay_s,
            poll_duration_s=self.poll_duration_s,
            playback=self.playback,
            final_scene_s=self.final_scene_s,
            language=self.language,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class StartSession(SessionCommand):
    device_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeTrack(SessionCommand):
    """Next, previous or an explicit track (1-based position in the session's track list)."""

    direction: Literal["next", "previous", "to"]
    position: int | None = None
    source: str = "control"
    move_player: bool = True

    def validate(self) -> None:
        if self.direction == "to" and (self.position is None or self.position < 1):
            raise refuse(ValidationFailed, N_("position must be a track number from 1"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetVoteWindow(SessionCommand):
    open: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class StopSession(SessionCommand):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeleteSession(SessionCommand):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class CastVote(SessionCommand):
    """A rating from the web page or the API: the owner's is the streamer's rating."""

    value: str
    source: str = "web"
    # The track the voter sees (the public page shows the one they hear): the vote is
    # refused rather than counted for another one.
    track_id: int | None = None

    def validate(self) -> None:
        if not isinstance(self.value, str) or not self.value.strip() or len(self.value) > 40:
            raise refuse(ValidationFailed, N_("value must be one of the session's scale options"))


PLAYER_ACTIONS = ("pause", "resume", "transfer")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ControlPlayer(SessionCommand):
    """Pause, resume or move (``transfer`` to ``device_id``) the Spotify player of a session;
    the session's own state (track, votes) does not change."""

    action: str
    device_id: str | None = None

    def validate(self) -> None:
        if self.action not in PLAYER_ACTIONS:
            raise refuse(
                ValidationFailed,
                N_("action must be one of %(choices)s"),
                choices=", ".join(PLAYER_ACTIONS),
            )
        if self.action == "transfer" and (
            not self.device_id or not self.device_id.strip() or len(self.device_id) > 200
        ):
            raise refuse(ValidationFailed, N_("Choose a device from the list."))


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetVod(SessionCommand):
    """Save where the session was recorded: a Twitch or YouTube video link (empty clears it)
    and where the session starts in it (``1:02:03``, ``62:03`` or seconds; empty means 0)."""

    url: str = ""
    offset: str = ""

    def validate(self) -> None:
        if self.url.strip():
            parse_vod_url(self.url)
        parse_offset(self.offset)


CHAT_LANGUAGES = ("en", "fr", "it")
CHAT_COMMAND_NAMES = ("score", "myvote", "top")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetChatCommands(SessionCommand):
    """Which chat commands the bot answers in this session, and in which language; allowed
    while preparing and while active (a streamer may silence a command mid-stream)."""

    language: str | None = None
    enabled: tuple[tuple[str, bool], ...] = ()

    def validate(self) -> None:
        if self.language is not None and self.language not in CHAT_LANGUAGES:
            raise refuse(
                ValidationFailed,
                N_("language must be one of %(choices)s"),
                choices=", ".join(CHAT_LANGUAGES),
            )
        for name, on in self.enabled:
            if name not in CHAT_COMMAND_NAMES or not isinstance(on, bool):
                raise refuse(
                    ValidationFailed,
                    N_("chat commands are %(choices)s, each on or off"),
                    choices=", ".join(CHAT_COMMAND_NAMES),
                )


@dataclasses.dataclass(frozen=True, kw_only=True)
class EndPoll(SessionCommand):
    """End the current track's Twitch poll now (its final ballots still count)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunPollAgain(SessionCommand):
    """Run a new Twitch poll for the current track (ending the running one first)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SwitchPlayback(SessionCommand):
    """Change how an active session is played: ``manual`` when Spotify fails or is unlinked
    mid-show, ``spotify`` again once it is back."""

    playback: str

    def validate(self) -> None:
        validate_settings(playback=self.playback)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RemoveVoter(SessionCommand):
    """The streamer removes a viewer's ratings from the session (a troll); the viewer's later
    ratings of this session are refused too."""

    viewer_id: str

    def validate(self) -> None:
        if not isinstance(self.viewer_id, str) or not self.viewer_id.strip():
            raise refuse(ValidationFailed, N_("Choose a voter from the feed."))
        if len(self.viewer_id) > 40:
            raise refuse(ValidationFailed, N_("Choose a voter from the feed."))
