"""The one rule for showing a score on screen and in chat: one decimal, rounded half up
(7.25 -> 7.3, 6.75 -> 6.8, 6.99 -> 7.0), like the browser's ``Intl.NumberFormat`` in
static/app.js, so a score rendered by the server and then refreshed live never changes.
Exports (CSV, JSON) keep full precision and never go through this."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SCORE_DIGITS = 1


def rounded_score(value: float | int, digits: int = SCORE_DIGITS) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
