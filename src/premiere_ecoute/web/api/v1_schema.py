"""Request bodies and documented error answers of the JSON API v1 (``v1.py``).

Rules the domain enforces with its own messages (ranges, choices) are published in the
OpenAPI with ``_doc`` so that clients and fuzzers see them, without pydantic's wording."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictInt, StrictStr


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody} for status in statuses}


# What a session command may add: unknown session, not the owner, wrong state, and an
# external API (Spotify, Twitch) that refused or is unavailable.
COMMAND = error_responses(403, 404, 409, 502, 503)
READ = error_responses(404)
# Player commands reach Spotify: the same answers as a session command.
PLAYER = COMMAND
MAX_PAGE = 1_000_000


def _storable(value: str) -> str:
    """Text that PostgreSQL can store and a person can read: no NUL or other control
    characters, no lone surrogates. Refused with 422 instead of failing in the database."""
    for ch in value:
        if (ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError("must not contain control characters or invalid unicode")
    return value


def _doc(**schema: Any) -> Any:
    """Publish in the OpenAPI a rule the domain enforces (with its own, clearer message)."""
    return Field(json_schema_extra=schema)


Text = Annotated[
    str,
    AfterValidator(_storable),
    _doc(pattern="^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"),
]
Option = Annotated[Text, _doc(minLength=1, maxLength=50)]
Scale = Text | Annotated[list[Option], _doc(minItems=2, maxItems=10)]
VoteMode = Annotated[str, _doc(enum=["chat", "poll", "both"])]
Playback = Annotated[str, _doc(enum=["spotify", "manual"])]
Delay = Annotated[int, _doc(minimum=0, maximum=60)]
PollDuration = Annotated[int, _doc(minimum=15, maximum=1800)]
FinalScene = Annotated[int, _doc(minimum=0, maximum=600)]
Language = Annotated[str, _doc(enum=["en", "fr", "it"])]


class PrepareBody(BaseModel):
    album: Text | None = Field(None, description="Spotify album id, link or URI")
    playlist: Text | None = Field(None, description="Spotify playlist id, link or URI")
    scale: Scale = "0-10"
    vote_mode: VoteMode = "chat"
    stream_delay_s: Delay = 0
    poll_duration_s: PollDuration = 120
    auto_advance: bool = True
    playback: Playback | None = None
    final_scene_s: FinalScene = 60
    language: Language = "en"


class SettingsBody(BaseModel):
    scale: Scale | None = None
    vote_mode: VoteMode | None = None
    stream_delay_s: Delay | None = None
    poll_duration_s: PollDuration | None = None
    auto_advance: bool | None = None
    playback: Playback | None = None
    final_scene_s: FinalScene | None = None
    language: Language | None = None


class ChatCommandsBody(BaseModel):
    """Which chat commands the bot answers in the session, and in which language (fields
    left out keep their value)."""

    language: Annotated[str, _doc(enum=["en", "fr", "it"])] | None = None
    score: bool | None = None
    myvote: bool | None = None
    top: bool | None = None


class VoteBody(BaseModel):
    # Strict: ``true`` is not the rating "1".
    value: Annotated[StrictStr, _doc(pattern="\\S", maxLength=50)] | StrictInt


class StartBody(BaseModel):
    device_id: Text | None = None


class TransferBody(BaseModel):
    device_id: Annotated[Text, _doc(minLength=1, maxLength=200)] = Field(
        description="A Spotify device id, from GET /sessions/{session_id}/devices"
    )


class PlayBody(BaseModel):
    position: Annotated[int, _doc(minimum=1)]


def scale_arg(value: str | list[str] | None) -> str | tuple[str, ...] | None:
    return tuple(value) if isinstance(value, list) else value


# The report (SPEC §5) and its honest figures, documented for clients (answers are not
# filtered through these models).

Number = float | int


class TrackFigures(BaseModel):
    ratings: int
    voters: int
    distribution: dict[str, int]
    modal: str | None = Field(description="The most frequent option, 'tie', or null")
    modal_share: float | None
    bayesian: float = Field(
        description="(C·m + Σx) / (C + n): the ranking score, shrunk toward the instance mean"
    )
    divisiveness: float | None = Field(description="0 = unanimous, 1 = as split as possible")
    rank: int | None = Field(description="Place by Bayesian average; null when unrated")
    mean: float | None = Field(default=None, description="Numeric scales")
    median: float | None = Field(default=None, description="Numeric scales")
    std: float | None = Field(default=None, description="Population standard deviation")
    first_option: str | None = Field(default=None, description="Categorical scales ('smash')")
    first_share: float | None = Field(default=None, description="Categorical scales")


class AlbumFigures(TrackFigures):
    rank: int | None = None


class PriorOut(BaseModel):
    family: str | None
    mean: float = Field(description="The instance mean of the family, normalised to 0-1")
    weight: float = Field(description="C, the prior's weight in ratings")
    ratings: int
    mean_on_scale: float = Field(description="m, the mean in this scale's units")
    formula: str


class TrackMention(BaseModel):
    track_id: int
    track_number: int
    name: str


class MostDivisive(TrackMention):
    divisiveness: float
    ratings: int


class Disagreement(TrackMention):
    streamer: Number | str
    chat: Number | str | None
    difference: float


class StreamerVsChat(BaseModel):
    tracks_compared: int
    agreement: float | None
    disagreements: list[Disagreement]
    mean_absolute_difference: float | None = None
    correlation: float | None = None
    matches: int | None = None


class ReportFigures(BaseModel):
    prior: PriorOut
    ranked_by: str
    album: AlbumFigures
    ranking: list[int] = Field(description="Rated track ids, best Bayesian average first")
    most_divisive: MostDivisive | None
    streamer_vs_chat: StreamerVsChat


class ScaleOut(BaseModel):
    kind: str
    options: list[str]


class ReportTrack(BaseModel):
    track_id: int
    spotify_id: str
    track_number: int
    name: str
    viewer_score: Number | str | None
    streamer_score: Number | str | None
    votes: int
    voters: int
    poll_votes: int
    distribution: dict[str, int]
    figures: TrackFigures


class ReportOut(BaseModel):
    session_id: int
    status: str
    scale: ScaleOut
    viewer_score: Number | str | None
    streamer_score: Number | str | None
    votes: int
    voters: int
    poll_votes: int
    tracks_rated: int
    tracks: list[ReportTrack]
    figures: ReportFigures
