"""The arithmetic of charts and histories, with no I/O.

Every rating is first put on one footing, 0..1 (``normaliser``): a numeric scale maps its
lowest option to 0 and its highest to 1 (``7`` on 0-10 is 0.7, ``4`` on 1-5 is 0.75);
smash/pass maps ``smash`` to 1 and ``pass`` to 0, so a mean is the share of "smash". A
custom scale of words has no such order: its ratings are counted but never averaged.

Rankings use a Bayesian average (``bayesian``): (C·m + Σx) / (C + n), with n the number of
ratings, Σx their normalised sum, m the instance's mean normalised rating for the scale
family and C = 10 ratings of prior weight. A few ratings stay close to m; many ratings
speak for themselves. Divisiveness is the standard deviation of the normalised ratings
times two (0 = everyone agrees, 1 = half at each end)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from premiere_ecoute.sessions.scores.scale import PRESETS, Scale

PRIOR_WEIGHT = 10  # C: the Bayesian average's weight of the instance's mean, in ratings
MIN_DIVISIVE_RATINGS = 10  # fewer ratings than this say nothing about a split
MIN_TASTE_OVERLAP = 5  # tracks rated by both before a taste match is shown
VARIANCE_EPSILON = 1e-12
SMASH_PASS = "smash-pass"
CUSTOM_NUMERIC = "custom-numeric"
CUSTOM = "custom"
RANKED_FAMILIES = ("0-10", "1-5", SMASH_PASS, CUSTOM_NUMERIC)
FAMILIES = (*RANKED_FAMILIES, CUSTOM)


def family_of(scale: Scale) -> str:
    """``0-10``, ``1-5``, ``smash-pass``, ``custom-numeric`` or ``custom``."""
    for name, options in PRESETS.items():
        if scale.options == options:
            return name
    return CUSTOM_NUMERIC if scale.kind == "numeric" else CUSTOM


def normaliser(scale: Scale) -> dict[str, float] | None:
    """Each option's value on 0..1, or None for a scale of words without an order."""
    if scale.kind == "numeric":
        values = scale.values
        low, high = min(values), max(values)
        return {o: (v - low) / (high - low) for o, v in zip(scale.options, values, strict=True)}
    if family_of(scale) == SMASH_PASS:
        return {"smash": 1.0, "pass": 0.0}
    return None


@dataclass(frozen=True, slots=True)
class Moments:
    """What a set of ratings adds up to: enough to merge sets by addition."""

    ratings: int
    total: float | None  # sum of normalised values (None: not averageable)
    sumsq: float | None
    extremes: int  # ratings at 0 or at 1

    @property
    def mean(self) -> float | None:
        if self.total is None or not self.ratings:
            return None
        return self.total / self.ratings


def moments(distribution: Mapping[str, int], norm: Mapping[str, float] | None) -> Moments:
    ratings = sum(distribution.values())
    if norm is None:
        return Moments(ratings, None, None, 0)
    total = math.fsum(norm[o] * n for o, n in distribution.items())
    sumsq = math.fsum(norm[o] ** 2 * n for o, n in distribution.items())
    extremes = sum(n for o, n in distribution.items() if norm[o] in (0.0, 1.0))
    return Moments(ratings, total, sumsq, extremes)


def bayesian(total: float, ratings: int, prior_mean: float, weight: int = PRIOR_WEIGHT) -> float:
    """(C·m + Σx) / (C + n)."""
    return (weight * prior_mean + total) / (weight + ratings)


def divisiveness(total: float, sumsq: float, ratings: int) -> float:
    """2 × the standard deviation (population) of normalised ratings: 0..1."""
    if ratings <= 0:
        return 0.0
    mean = total / ratings
    variance = sumsq / ratings - mean * mean
    # Rounding leaves a tiny variance where every rating is the same: that is no split.
    return 2 * math.sqrt(variance) if variance > VARIANCE_EPSILON else 0.0


def pearson(pairs: Sequence[tuple[float, float]]) -> float | None:
    """The correlation of the pairs; None when either side never varies (or no pairs)."""
    n = len(pairs)
    if n < 2:
        return None
    mx = math.fsum(x for x, _ in pairs) / n
    my = math.fsum(y for _, y in pairs) / n
    sxy = math.fsum((x - mx) * (y - my) for x, y in pairs)
    sxx = math.fsum((x - mx) ** 2 for x, _ in pairs)
    syy = math.fsum((y - my) ** 2 for _, y in pairs)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return math.fsum(items) / len(items) if items else None
