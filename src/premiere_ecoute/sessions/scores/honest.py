"""Honest scores: figures beside the SPEC §5 report that say how far a score can be trusted.

Pure functions over a report (the SPEC §5 JSON) and an instance prior; no I/O. The rules:

- **Mean, median, standard deviation** of a track's viewer ratings (each viewer's latest
  chat/web rating plus every poll ballot, as in SPEC §5), from its distribution. The standard
  deviation is the population one (the ratings as they are, not an estimate of a larger
  crowd), so it is 0 for a single rating. The median of an even count is the mean of the two
  middle ratings. The album's figures pool every viewer rating of the session.
- **Bayesian average** ``(C·m + Σx) / (C + n)``: the ``n`` ratings ``x`` of a track (or the
  album) plus ``C`` = ``PRIOR_WEIGHT`` = 10 imaginary ratings at the instance's mean ``m``.
  ``m`` is the mean of every rating on the instance for the same scale family, normalised to
  0–1 (``(x − lowest) / (highest − lowest)``) and mapped back onto the session's scale, so a
  1-5 session and a 0-10 one of another family never pull on each other. Every ranking uses it,
  so 3 votes of 10 (Bayesian 6.92 with m = 6) rank below 300 votes averaging 9.2 (9.10).
  Categorical scales rank by the share of their first option ("smash"), shrunk the same way:
  ``(C·p + smashes) / (C + n)`` with ``p`` the instance's share of the first option (custom
  lists: ``1/k`` for ``k`` options, as custom lists differ from session to session).
- **Divisiveness**, 0 (everyone agrees) to 1 (as split as the scale allows): on numeric scales
  the standard deviation divided by half the scale's range (the largest standard deviation
  possible, half the ratings at each end); on categorical scales ``(1 − modal share) /
  (1 − 1/k)`` (smash-pass: twice the minority share). The most divisive track of a report is
  the one with the highest divisiveness among tracks with at least ``MIN_DIVISIVE_VOTES``
  ratings (more votes, then album order, break ties); none when no track has that many.
- **Streamer versus chat**, over the tracks with both a streamer rating and viewer ratings:
  numeric scales give the mean absolute difference between the streamer's rating and the
  chat's mean, ``agreement = 1 − MAD / range``, and Pearson's correlation when at least 3
  tracks vary on both sides (else null). Categorical scales give, per track, the share of the
  chat that chose the streamer's option; ``agreement`` is the mean of those shares. The tracks
  where they disagree most are the ``DISAGREEMENTS`` largest differences (numeric: |streamer −
  chat|; categorical: 1 − that share), album order breaking ties, zero differences left out.

Sums use ``math.fsum`` so that a report rebuilt from the event log gives the same figures bit
for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from premiere_ecoute.sessions.scores.scale import PRESETS, Scale

PRIOR_WEIGHT = 10.0
MIN_DIVISIVE_VOTES = 3
DISAGREEMENTS = 3
MIN_CORRELATION_TRACKS = 3
# What the report shows as "ranked by …" (the tooltip spells the formula with the numbers).
FORMULA = "(C·m + Σx) / (C + n)"


# ---- scale families and the prior ----------------------------------------------------------


def scale_family(scale: Scale) -> str | None:
    """The family whose ratings share one instance mean: a preset's name, ``numeric`` for any
    other list of numbers (normalised to 0–1), and None for a custom list of words."""
    for name, options in PRESETS.items():
        if scale.options == options:
            return name
    return "numeric" if scale.kind == "numeric" else None


def normalised_total(scale: Scale, counts: Sequence[int]) -> tuple[float, int]:
    """(Σ normalised rating, number of ratings) of a distribution, the two numbers an instance
    prior adds up: on numeric scales each rating is ``(x − lowest) / (highest − lowest)``, on
    categorical ones 1 for the first option and 0 otherwise."""
    n = sum(counts)
    if scale.kind == "numeric":
        lo, hi = min(scale.values), max(scale.values)
        total = math.fsum(c * (v - lo) for v, c in zip(scale.values, counts, strict=True))
        return total / (hi - lo), n
    return float(counts[0]), n


@dataclass(frozen=True, slots=True)
class Prior:
    """The instance's mean for a scale family, normalised to 0–1, and the weight ``C``.
    ``ratings`` says how many ratings it was computed from (0: the neutral default)."""

    mean: float
    weight: float = PRIOR_WEIGHT
    ratings: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "weight": self.weight, "ratings": self.ratings}


def default_prior(scale: Scale) -> Prior:
    """Before the instance has ratings of a family: the middle of a numeric scale, an even
    share of a categorical one."""
    return Prior(mean=0.5 if scale.kind == "numeric" else 1 / len(scale.options))


def prior_from_totals(
    scale: Scale, total: float, ratings: int, weight: float = PRIOR_WEIGHT
) -> Prior:
    """The prior from an instance's added-up ``normalised_total``s (custom word lists have no
    family, so they keep the neutral default)."""
    if ratings <= 0 or scale_family(scale) is None:
        return Prior(mean=default_prior(scale).mean, weight=weight)
    return Prior(mean=total / ratings, weight=weight, ratings=ratings)


def prior_on_scale(scale: Scale, prior: Prior) -> float:
    """The prior mean ``m`` in the session's own units (a share on categorical scales)."""
    if scale.kind == "numeric":
        lo, hi = min(scale.values), max(scale.values)
        return lo + prior.mean * (hi - lo)
    return prior.mean


def bayesian_average(total: float, count: int, prior_mean: float, weight: float) -> float:
    """``(C·m + Σx) / (C + n)``: ``count`` ratings adding up to ``total``, shrunk toward
    ``prior_mean`` with ``weight`` imaginary ratings. With no rating and no weight, the prior."""
    if weight + count <= 0:
        return prior_mean
    return (weight * prior_mean + total) / (weight + count)


# ---- one distribution ----------------------------------------------------------------------


def distribution_figures(scale: Scale, counts: Sequence[int], prior: Prior) -> dict[str, Any]:
    """The figures of one distribution (a track's, or the album's pooled one), per option in
    the scale's order."""
    counts = [int(c) for c in counts]
    if len(counts) != len(scale.options) or any(c < 0 for c in counts):
        raise ValueError("a distribution has one count >= 0 per option")
    n = sum(counts)
    m = prior_on_scale(scale, prior)
    top = max(counts)
    modes = [o for o, c in zip(scale.options, counts, strict=True) if c == top] if n else []
    modal_share = top / n if n else None
    out: dict[str, Any] = {
        "ratings": n,
        "distribution": dict(zip(scale.options, counts, strict=True)),
        "modal": None if not modes else modes[0] if len(modes) == 1 else "tie",
        "modal_share": modal_share,
    }
    if scale.kind == "numeric":
        values = scale.values
        lo, hi = min(values), max(values)
        total = math.fsum(c * v for v, c in zip(values, counts, strict=True))
        mean = total / n if n else None
        std: float | None = None
        if mean is not None:
            var = math.fsum(c * (v - mean) ** 2 for v, c in zip(values, counts, strict=True)) / n
            std = math.sqrt(var)
        out |= {
            "mean": mean,
            "median": _median(values, counts),
            "std": std,
            "bayesian": bayesian_average(total, n, m, prior.weight),
            "divisiveness": None if std is None else std / ((hi - lo) / 2),
        }
    else:
        k = len(scale.options)
        first = counts[0]
        out |= {
            "first_option": scale.options[0],
            "first_share": first / n if n else None,
            "bayesian": bayesian_average(float(first), n, m, prior.weight),
            "divisiveness": None if modal_share is None else (1 - modal_share) / (1 - 1 / k),
        }
    return out


def _median(values: Sequence[int], counts: Sequence[int]) -> float | None:
    n = sum(counts)
    if n == 0:
        return None
    pairs = sorted(zip(values, counts, strict=True))

    def nth(k: int) -> int:  # the k-th rating (0-based) in increasing order
        seen = 0
        for value, count in pairs:
            seen += count
            if k < seen:
                return value
        raise IndexError(k)  # pragma: no cover - k < n always

    if n % 2:
        return float(nth(n // 2))
    return (nth(n // 2 - 1) + nth(n // 2)) / 2


# ---- the report ----------------------------------------------------------------------------


def honest_figures(report: Mapping[str, Any], prior: Prior) -> dict[str, Any]:
    """Every new figure of a SPEC §5 report: per track (keyed by track id, as text for JSON),
    the album, the ranking, the most divisive track, and streamer versus chat."""
    scale = Scale.from_json(report["scale"])
    options = scale.options
    tracks: dict[str, dict[str, Any]] = {}
    pooled = [0] * len(options)
    for t in report["tracks"]:
        counts = [int(t["distribution"].get(o, 0)) for o in options]
        pooled = [a + b for a, b in zip(pooled, counts, strict=True)]
        figures = distribution_figures(scale, counts, prior)
        figures["voters"] = t["voters"]
        tracks[str(t["track_id"])] = figures
    album = distribution_figures(scale, pooled, prior)
    album["voters"] = report["voters"]
    rated = [t for t in report["tracks"] if tracks[str(t["track_id"])]["ratings"]]
    order = {t["track_id"]: i for i, t in enumerate(report["tracks"])}
    ranking = sorted(
        rated,
        key=lambda t: (
            -tracks[str(t["track_id"])]["bayesian"],
            -tracks[str(t["track_id"])]["ratings"],
            order[t["track_id"]],
        ),
    )
    for rank, t in enumerate(ranking, start=1):
        tracks[str(t["track_id"])]["rank"] = rank
    for figures in tracks.values():
        figures.setdefault("rank", None)
    return {
        "prior": {
            "family": scale_family(scale),
            **prior.to_json(),
            "mean_on_scale": prior_on_scale(scale, prior),
            "formula": FORMULA,
        },
        "ranked_by": "bayesian",
        "album": album,
        "tracks": tracks,
        "ranking": [t["track_id"] for t in ranking],
        "most_divisive": _most_divisive(report["tracks"], tracks),
        "streamer_vs_chat": streamer_vs_chat(scale, report["tracks"]),
    }


def _most_divisive(
    refs: Sequence[Mapping[str, Any]], tracks: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any] | None:
    best: tuple[float, int, int] | None = None
    chosen: Mapping[str, Any] | None = None
    for i, t in enumerate(refs):
        f = tracks[str(t["track_id"])]
        if f["ratings"] < MIN_DIVISIVE_VOTES:
            continue
        key = (-f["divisiveness"], -f["ratings"], i)
        if best is None or key < best:
            best, chosen = key, t
    if chosen is None:
        return None
    f = tracks[str(chosen["track_id"])]
    return {
        "track_id": chosen["track_id"],
        "track_number": chosen["track_number"],
        "name": chosen["name"],
        "divisiveness": f["divisiveness"],
        "ratings": f["ratings"],
    }


def streamer_vs_chat(scale: Scale, refs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Agreement between the streamer's ratings and the chat's over the tracks both rated."""
    rows: list[tuple[int, Mapping[str, Any], float, Any, Any]] = []  # (i, ref, diff, s, c)
    if scale.kind == "numeric":
        lo, hi = min(scale.values), max(scale.values)
        pairs: list[tuple[float, float]] = []
        for i, t in enumerate(refs):
            s, c = t["streamer_score"], t["viewer_score"]
            if s is None or c is None:
                continue
            pairs.append((float(s), float(c)))
            rows.append((i, t, abs(float(s) - float(c)), float(s), float(c)))
        n = len(pairs)
        mad = math.fsum(r[2] for r in rows) / n if n else None
        summary: dict[str, Any] = {
            "tracks_compared": n,
            "mean_absolute_difference": mad,
            "agreement": None if mad is None else 1 - mad / (hi - lo),
            "correlation": pearson(pairs),
        }
    else:
        for i, t in enumerate(refs):
            s = t["streamer_score"]
            n_votes = sum(int(c) for c in t["distribution"].values())
            if s is None or not n_votes:
                continue
            share = int(t["distribution"].get(s, 0)) / n_votes
            rows.append((i, t, 1 - share, s, t["viewer_score"]))
        n = len(rows)
        summary = {
            "tracks_compared": n,
            "agreement": 1 - math.fsum(r[2] for r in rows) / n if n else None,
            "matches": sum(1 for r in rows if r[3] == r[4]),
        }
    worst = sorted((r for r in rows if r[2] > 0), key=lambda r: (-r[2], r[0]))[:DISAGREEMENTS]
    summary["disagreements"] = [
        {
            "track_id": t["track_id"],
            "track_number": t["track_number"],
            "name": t["name"],
            "streamer": s,
            "chat": c,
            "difference": diff,
        }
        for _, t, diff, s, c in worst
    ]
    return summary


def pearson(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Pearson's correlation of the pairs; None under ``MIN_CORRELATION_TRACKS`` pairs or when
    one side does not vary."""
    n = len(pairs)
    if n < MIN_CORRELATION_TRACKS:
        return None
    mx = math.fsum(x for x, _ in pairs) / n
    my = math.fsum(y for _, y in pairs) / n
    sxy = math.fsum((x - mx) * (y - my) for x, y in pairs)
    sxx = math.fsum((x - mx) ** 2 for x, _ in pairs)
    syy = math.fsum((y - my) ** 2 for _, y in pairs)
    if sxx == 0 or syy == 0:
        return None
    r = sxy / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def attach_figures(report: Mapping[str, Any], prior: Prior) -> dict[str, Any]:
    """The report with its honest figures beside the SPEC §5 numbers: each track gains
    ``figures`` (its own), and the report gains ``figures`` (prior, album, ranking, most
    divisive track, streamer versus chat). The SPEC §5 keys are left as they are."""
    figures = honest_figures(report, prior)
    per_track = figures.pop("tracks")
    return {
        **report,
        "tracks": [{**t, "figures": per_track[str(t["track_id"])]} for t in report["tracks"]],
        "figures": figures,
    }


def session_totals(scale: Scale, counts: Sequence[int]) -> tuple[str | None, float, int]:
    """(family, Σ normalised rating, ratings) of a session's pooled distribution: what the
    instance prior adds up for each session."""
    total, n = normalised_total(scale, counts)
    return scale_family(scale), total, n
