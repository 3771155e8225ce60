"""What the bot says in chat (SPEC §3), in the session's language: the start and each track
change (with the scale and how to vote), each track's result when its votes close, and the
album's result at the stop. Texts are gettext msgids marked with ``N_``; the ``Translator``
port turns them into the session's language and writes scores by the one rule of the pages."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.sessions.ports import Translator
from premiere_ecoute.sessions.scores import Scale


class Speaker:
    """The announcements of one session, in its ``language``."""

    def __init__(self, translator: Translator, language: str) -> None:
        self._t = translator
        self._language = language

    def _(self, msgid: str, **params: Any) -> str:
        text = self._t.gettext(self._language, msgid)
        return text % params if params else text

    def _n(self, singular: str, plural: str, n: int, **params: Any) -> str:
        return self._t.ngettext(self._language, singular, plural, n) % {"n": n, **params}

    def score(self, value: Any) -> str:
        return self._t.score(self._language, value)

    def scale(self, scale: Scale) -> str:
        """The scale as a viewer types it: ``0–10``, ``1–5``, ``smash / pass``, ``bad / ok``."""
        if scale.kind == "numeric" and scale.values == tuple(
            range(min(scale.values), max(scale.values) + 1)
        ):
            return f"{min(scale.values)}–{max(scale.values)}"
        return " / ".join(scale.options)

    def how_to_vote(self, scale: Scale, vote_mode: str) -> str:
        shown = self.scale(scale)
        if vote_mode == "poll":
            return self._("Vote in the Twitch poll: %(scale)s.", scale=shown)
        if vote_mode == "both":
            return self._("Rate it in chat or in the Twitch poll: %(scale)s.", scale=shown)
        example = scale.options[-1] if scale.kind == "numeric" else scale.options[0]
        return self._(
            "Rate it in chat: type %(scale)s (for example %(example)s).",
            scale=shown,
            example=example,
        )

    def started(self, track: str, scale: Scale, vote_mode: str) -> str:
        return " ".join(
            (
                self._("Listening session started! Now playing: %(track)s.", track=track),
                self.how_to_vote(scale, vote_mode),
            )
        )

    def now_playing(self, track: str, scale: Scale, vote_mode: str) -> str:
        return " ".join(
            (self._("Now playing: %(track)s.", track=track), self.how_to_vote(scale, vote_mode))
        )

    def track_result(self, entry: dict[str, Any]) -> str | None:
        """A closed track's result; None when nobody rated it (nothing worth a message)."""
        votes = int(entry.get("votes") or 0) + int(entry.get("poll_votes") or 0)
        if entry.get("viewer_score") is None or votes == 0:
            return None
        return self._n(
            "Votes closed for %(track)s: chat score %(score)s (%(n)s vote).",
            "Votes closed for %(track)s: chat score %(score)s (%(n)s votes).",
            votes,
            track=entry.get("name") or "",
            score=self.score(entry["viewer_score"]),
        )

    def album_result(self, report: dict[str, Any], top: dict[str, Any] | None) -> str:
        votes = int(report.get("votes") or 0) + int(report.get("poll_votes") or 0)
        if report.get("viewer_score") is None:
            return self._("Session over! No votes this time. Thanks for listening!")
        text = " ".join(
            (
                self._(
                    "Session over! Album chat score: %(score)s.",
                    score=self.score(report["viewer_score"]),
                ),
                self._n("%(n)s vote", "%(n)s votes", votes)
                + ", "
                + self._n("%(n)s voter.", "%(n)s voters.", int(report.get("voters") or 0)),
            )
        )
        if top is not None:
            text += " " + self._(
                "Top track: %(track)s (%(score)s).",
                track=top["name"],
                score=self.score(top["viewer_score"]),
            )
        return text + " " + self._("Thanks for listening!")
