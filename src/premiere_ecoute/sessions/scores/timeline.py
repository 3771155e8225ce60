"""Which track a vote belongs to (SPEC §4.3).

A vote sent at ``t`` belongs to the track current at ``t - stream_delay_s`` (viewers hear the
stream late), and counts only if that track's vote window was open at that same moment.
Lookups bisect sorted timestamps, so attribution is O(log n) in the number of track changes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from premiere_ecoute.core.errors import N_, InvalidState, refuse

RejectReason = Literal["before_start", "after_stop", "window_closed"]


@dataclass(frozen=True, slots=True)
class Attribution:
    """``track_id`` is set when accepted, and for ``window_closed`` (useful in logs)."""

    track_id: int | None
    reason: RejectReason | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


@dataclass
class _Windows:
    """Non-overlapping vote windows of one track, sorted; only the last may still be open."""

    opens: list[datetime] = field(default_factory=list)
    closes: list[datetime | None] = field(default_factory=list)

    def is_open_now(self) -> bool:
        return bool(self.closes) and self.closes[-1] is None

    def was_open_at(self, moment: datetime) -> bool:
        i = bisect_right(self.opens, moment) - 1
        if i < 0:
            return False
        closed = self.closes[i]
        return closed is None or moment < closed


class Timeline:
    def __init__(
        self,
        started_at: datetime,
        entries: Iterable[tuple[int, datetime]] = (),
        windows: Mapping[int, Iterable[tuple[datetime, datetime | None]]] | None = None,
        stopped_at: datetime | None = None,
    ) -> None:
        self.started_at = _aware(started_at)
        self.stopped_at = None if stopped_at is None else _aware(stopped_at)
        self._starts: list[datetime] = []
        self._tracks: list[int] = []
        for track_id, at in entries:
            if self._starts and _aware(at) < self._starts[-1]:
                raise ValueError("timeline entries must be in chronological order")
            self._starts.append(_aware(at))
            self._tracks.append(int(track_id))
        self._windows: dict[int, _Windows] = {}
        for track_id, intervals in (windows or {}).items():
            w = self._windows.setdefault(int(track_id), _Windows())
            for opened, closed in intervals:
                if w.closes and (w.closes[-1] is None or _aware(opened) < w.closes[-1]):
                    raise ValueError(f"vote windows of track {track_id} overlap or are unsorted")
                if closed is not None and _aware(closed) < _aware(opened):
                    raise ValueError(f"a vote window of track {track_id} closes before it opens")
                w.opens.append(_aware(opened))
                w.closes.append(None if closed is None else _aware(closed))

    @classmethod
    def start(cls, first_track_id: int, at: datetime, *, open_window: bool = True) -> Timeline:
        """The timeline of a session that starts now on its first track."""
        timeline = cls(started_at=at, entries=[(first_track_id, at)])
        if open_window:
            timeline.open_window(first_track_id, at)
        return timeline

    # ---- reading ----------------------------------------------------------------------------

    @property
    def current_track_id(self) -> int | None:
        return self._tracks[-1] if self._tracks else None

    @property
    def votes_open(self) -> bool:
        """Whether the current track's window is open (what the control page shows)."""
        track_id = self.current_track_id
        if track_id is None or self.stopped_at is not None:
            return False
        w = self._windows.get(track_id)
        return w is not None and w.is_open_now()

    @property
    def entries(self) -> list[tuple[int, datetime]]:
        return list(zip(self._tracks, self._starts, strict=True))

    def track_at(self, moment: datetime) -> int | None:
        i = bisect_right(self._starts, _aware(moment)) - 1
        return self._tracks[i] if i >= 0 else None

    def window_open_at(self, track_id: int, moment: datetime) -> bool:
        w = self._windows.get(track_id)
        return w is not None and w.was_open_at(_aware(moment))

    def attribute(self, sent_at: datetime, stream_delay_s: int) -> Attribution:
        if stream_delay_s < 0:
            raise ValueError("stream_delay_s cannot be negative")
        moment = _aware(sent_at) - timedelta(seconds=stream_delay_s)
        if self.stopped_at is not None and moment > self.stopped_at:
            return Attribution(None, "after_stop")
        if moment < self.started_at:
            return Attribution(None, "before_start")
        track_id = self.track_at(moment)
        if track_id is None:
            return Attribution(None, "before_start")
        if not self.window_open_at(track_id, moment):
            return Attribution(track_id, "window_closed")
        return Attribution(track_id)

    def changes_between(self, after: datetime, until: datetime) -> list[datetime]:
        """Moments in ``(after, until]`` when the current track or a vote window changed,
        sorted: what a view shifted by the stream delay must show anew at each of them."""
        moments = [t for t in self._starts if after < t <= until]
        for w in self._windows.values():
            moments += [t for t in w.opens if after < t <= until]
            moments += [t for t in w.closes if t is not None and after < t <= until]
        if self.stopped_at is not None and after < self.stopped_at <= until:
            moments.append(self.stopped_at)
        return sorted(moments)

    # ---- live changes -----------------------------------------------------------------------
    # Times earlier than the last recorded one are moved up to it: commands may be handled by
    # processes whose clocks differ by a few milliseconds, and the lists must stay sorted.

    def change_track(self, track_id: int, at: datetime) -> None:
        self._refuse_when_stopped()
        floor = self._starts[-1] if self._starts else self.started_at
        self._starts.append(max(_aware(at), floor))
        self._tracks.append(track_id)

    def open_window(self, track_id: int, at: datetime) -> None:
        """Open the track's window; a no-op when it is already open."""
        self._refuse_when_stopped()
        w = self._windows.setdefault(track_id, _Windows())
        if w.is_open_now():
            return
        floor = w.closes[-1] if w.closes else None
        at = _aware(at)
        w.opens.append(at if floor is None else max(at, floor))
        w.closes.append(None)

    def close_window(self, track_id: int, at: datetime) -> None:
        """Close the track's window; a no-op when it is not open."""
        w = self._windows.get(track_id)
        if w is None or not w.is_open_now():
            return
        w.closes[-1] = max(_aware(at), w.opens[-1])

    def stop(self, at: datetime) -> None:
        """Mark the end of the session; stopping twice keeps the first time."""
        if self.stopped_at is None:
            self.stopped_at = max(_aware(at), self._starts[-1] if self._starts else self.started_at)

    def _refuse_when_stopped(self) -> None:
        if self.stopped_at is not None:
            raise refuse(InvalidState, N_("The session is stopped."))

    # ---- storage ----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "stopped_at": None if self.stopped_at is None else self.stopped_at.isoformat(),
            "entries": [
                [t, at.isoformat()] for t, at in zip(self._tracks, self._starts, strict=True)
            ],
            "windows": {
                str(track_id): [
                    [o.isoformat(), None if c is None else c.isoformat()]
                    for o, c in zip(w.opens, w.closes, strict=True)
                ]
                for track_id, w in self._windows.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timeline:
        stopped = data.get("stopped_at")
        return cls(
            started_at=_parse(data["started_at"]),
            stopped_at=None if stopped is None else _parse(stopped),
            entries=[(int(t), _parse(at)) for t, at in data.get("entries", [])],
            windows={
                int(track_id): [(_parse(o), None if c is None else _parse(c)) for o, c in spans]
                for track_id, spans in data.get("windows", {}).items()
            },
        )


def _aware(moment: datetime) -> datetime:
    # Comparing naive and aware datetimes raises deep inside bisect; fail early and clearly.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timeline times must be timezone-aware")
    return moment


def _parse(text: str) -> datetime:
    return _aware(datetime.fromisoformat(text))
