"""What the bot answers to ``!score``, ``!myvote`` and ``!top``, from a report with its honest
figures. Pure: the caller passes the session language's ``gettext`` and the report.

Numbers are written as the language writes them (7.4 / 7,4), scores with one decimal and
shares as whole percentages; a missing score is a dash. An answer fits one Twitch chat message
(500 characters): track names are cut to ``MAX_NAME`` characters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import format_decimal

from premiere_ecoute.core.errors import N_

Gettext = Callable[[str], str]
MAX_NAME = 60
TOP = 3
MAX_MESSAGE = 500

# Every text the bot may say (the catalog test checks each has a French and Italian entry).
SCORE_NUMERIC = N_(
    "“%(track)s”: chat %(chat)s (%(votes)s votes, Bayesian %(bayesian)s), "
    "streamer %(streamer)s · album: chat %(album)s, streamer %(album_streamer)s"
)
SCORE_CATEGORICAL = N_(
    "“%(track)s”: chat %(chat)s (%(votes)s votes, %(share)s “%(option)s”), "
    "streamer %(streamer)s · album: chat %(album)s, streamer %(album_streamer)s"
)
MYVOTE_RATED = N_("@%(name)s your rating of “%(track)s”: %(rating)s")
MYVOTE_NONE = N_("@%(name)s you have not rated “%(track)s” yet")
TOP_NUMERIC = N_("Top so far (Bayesian average): %(tracks)s")
TOP_CATEGORICAL = N_("Top so far (share of “%(option)s”): %(tracks)s")
TOP_NONE = N_("No track has been rated yet.")
MESSAGES = (
    SCORE_NUMERIC,
    SCORE_CATEGORICAL,
    MYVOTE_RATED,
    MYVOTE_NONE,
    TOP_NUMERIC,
    TOP_CATEGORICAL,
    TOP_NONE,
)


def number(value: float | None, locale: str, digits: int = 1) -> str:
    """``value`` rounded half-up to ``digits`` decimals, as ``locale`` writes it."""
    if value is None:
        return "–"
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return format_decimal(rounded, format=pattern, locale=locale)


def _score(value: Any, locale: str) -> str:
    if isinstance(value, str):
        return value
    return number(value, locale)


def _share(value: float | None, locale: str) -> str:
    return "–" if value is None else f"{number(value * 100, locale, 0)} %"


def _name(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def _fit(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _track(report: Mapping[str, Any], track_id: int) -> Mapping[str, Any] | None:
    return next((t for t in report["tracks"] if t["track_id"] == track_id), None)


def answer_score(
    report: Mapping[str, Any], track_id: int, gettext: Gettext, locale: str
) -> str | None:
    """The track's chat and streamer scores (with its Bayesian average, or its share of the
    first option) and the album's. None when the track is not in the report."""
    track = _track(report, track_id)
    if track is None:
        return None
    figures = track["figures"]
    common = {
        "track": _name(track["name"]),
        "chat": _score(track["viewer_score"], locale),
        "votes": track["votes"],
        "streamer": _score(track["streamer_score"], locale),
        "album": _score(report["viewer_score"], locale),
        "album_streamer": _score(report["streamer_score"], locale),
    }
    if report["scale"]["kind"] == "numeric":
        text = gettext(SCORE_NUMERIC) % {
            **common,
            "bayesian": number(figures["bayesian"] if track["votes"] else None, locale),
        }
    else:
        text = gettext(SCORE_CATEGORICAL) % {
            **common,
            "share": _share(figures["first_share"], locale),
            "option": report["scale"]["options"][0],
        }
    return _fit(text)


def answer_myvote(viewer_name: str, track_name: str, rating: str | None, gettext: Gettext) -> str:
    """The viewer's own rating of the track (their latest), or that they have none yet."""
    values = {"name": viewer_name, "track": _name(track_name)}
    if rating is None:
        return _fit(gettext(MYVOTE_NONE) % values)
    return _fit(gettext(MYVOTE_RATED) % {**values, "rating": rating})


def answer_top(report: Mapping[str, Any], gettext: Gettext, locale: str) -> str:
    """The session's best ``TOP`` tracks so far, by the report's honest ranking."""
    ranking = report["figures"]["ranking"][:TOP]
    if not ranking:
        return gettext(TOP_NONE)
    numeric = report["scale"]["kind"] == "numeric"
    parts = []
    for place, track_id in enumerate(ranking, start=1):
        track = _track(report, track_id)
        assert track is not None  # the ranking lists the report's own tracks
        bayesian = track["figures"]["bayesian"]
        value = number(bayesian, locale) if numeric else _share(bayesian, locale)
        parts.append(f"{place}. {_name(track['name'])} ({value})")
    tracks = " · ".join(parts)
    if numeric:
        return _fit(gettext(TOP_NUMERIC) % {"tracks": tracks})
    option = report["scale"]["options"][0]
    return _fit(gettext(TOP_CATEGORICAL) % {"tracks": tracks, "option": option})
