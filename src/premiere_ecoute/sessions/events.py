"""Session events (stream ``session-<id>``): everything needed to rebuild reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, ClassVar

from premiere_ecoute.core.messages import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionEvent(Event):
    session_id: int

    @property
    def stream(self) -> str:
        return f"session-{self.session_id}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionPrepared(SessionEvent):
    user_id: int
    source_kind: str
    source_spotify_id: str
    track_ids: tuple[int, ...]
    scale: dict[str, Any]
    vote_mode: str
    stream_delay_s: int
    playback: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionSettingsChanged(SessionEvent):
    changes: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionStarted(SessionEvent):
    at: dt.datetime
    track_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionStartFailed(SessionEvent):
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrackChanged(SessionEvent):
    at: dt.datetime
    track_id: int
    index: int
    source: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class VotesOpened(SessionEvent):
    at: dt.datetime
    track_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class VotesClosed(SessionEvent):
    at: dt.datetime
    track_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class VoteAccepted(SessionEvent):
    track_id: int
    viewer_id: str
    value: str
    is_streamer: bool
    source: str
    sent_at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class PollStarted(SessionEvent):
    poll_id: str
    track_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class PollBallotsUpdated(SessionEvent):
    poll_id: str
    track_id: int
    counts: dict[str, int]
    final: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class PollFailed(SessionEvent):
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionStopped(SessionEvent):
    at: dt.datetime
    report: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionDeleted(SessionEvent):
    by_user_id: int
    by_admin: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class ViewerRatingsErased(SessionEvent):
    """A viewer's account was deleted: their ratings no longer count in this session."""

    viewer_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionChanged(SessionEvent):
    """What a live view of the session shows changed with no event of its own (a notice, the
    player's reading, the subscriptions): announced after the commit, not logged."""

    logged: ClassVar[bool] = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlayerControlled(SessionEvent):
    """The streamer paused, resumed or moved the Spotify player from our page or the API."""

    action: str
    device_id: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class VodSet(SessionEvent):
    """The streamer saved (or cleared, ``url`` None) the video the session was recorded in."""

    url: str | None
    offset_s: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChatCommandAsked(Event):
    """A chat line asked the bot for ``!score``, ``!myvote`` or ``!top`` in a session that
    answers it. Told after the ingest's commit and answered off the vote path; not logged,
    and not a change of the session's live view."""

    logged: ClassVar[bool] = False
    session_id: int
    broadcaster_id: str
    command: str
    viewer_id: str
    viewer_name: str
    is_streamer: bool
    sent_at: dt.datetime

    @property
    def stream(self) -> str:
        return f"session-{self.session_id}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PollEnded(SessionEvent):
    """The streamer ended a poll before its time."""

    poll_id: str
    track_id: int
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlaybackSwitched(SessionEvent):
    """An active session moved between Spotify and manual playback."""

    playback: str
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class VoterRemoved(SessionEvent):
    """The streamer removed a viewer's ratings from the session (a troll): they no longer
    count, and the viewer's later ratings of the session are refused."""

    viewer_id: str
    by_user_id: int
    at: dt.datetime
