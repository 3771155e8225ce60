"""Rating scales (SPEC §3): the options a viewer may give, and whether they are numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from premiere_ecoute.core.errors import N_, ValidationFailed, refuse

ScaleKind = Literal["numeric", "categorical"]

DEFAULT_SCALE = "0-10"
PRESETS: dict[str, tuple[str, ...]] = {
    "0-10": tuple(str(n) for n in range(11)),
    "1-5": tuple(str(n) for n in range(1, 6)),
    "smash-pass": ("smash", "pass"),
}
MIN_OPTIONS = 2
MAX_CUSTOM_OPTIONS = 10
# A generous cap so that pages and the overlay stay readable; polls are stricter (see below).
MAX_OPTION_CHARS = 50
POLL_MAX_OPTIONS = 5
POLL_MAX_OPTION_CHARS = 25
# The categorical report uses "tie" as a score, so an option of that name would be ambiguous.
RESERVED_OPTIONS = frozenset({"tie"})

_INTEGER = re.compile(r"-?[0-9]+")


def is_integer_literal(text: str) -> bool:
    return _INTEGER.fullmatch(text) is not None


@dataclass(frozen=True)
class Scale:
    """An ordered tuple of options. ``kind`` and ``max_numeric`` are derived from them."""

    options: tuple[str, ...]
    kind: ScaleKind = field(init=False)
    max_numeric: int | None = field(init=False)

    def __post_init__(self) -> None:
        options = tuple(self.options)
        _check_options(options)
        numeric = all(is_integer_literal(option) for option in options)
        if numeric and len({int(option) for option in options}) != len(options):
            raise refuse(
                ValidationFailed,
                N_("Scale options must be different numbers (e.g. not 1 and 01)."),
            )
        # frozen dataclass: derived fields are set once here, never afterwards
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "kind", "numeric" if numeric else "categorical")
        object.__setattr__(self, "max_numeric", max(int(o) for o in options) if numeric else None)

    @classmethod
    def parse(cls, spec: str | Sequence[str] | None = None) -> Scale:
        """A preset name (``0-10``, ``1-5``, ``smash-pass``), a comma-separated list of
        options, or a list of options. ``None`` or an empty string means the default."""
        if spec is None or (isinstance(spec, str) and not spec.strip()):
            return cls(PRESETS[DEFAULT_SCALE])
        if isinstance(spec, str):
            preset = PRESETS.get(spec.strip().casefold())
            if preset is not None:
                return cls(preset)
            if "," not in spec:
                raise refuse(
                    ValidationFailed,
                    N_(
                        "Unknown scale '%(scale)s': use 0-10, 1-5, smash-pass "
                        "or a comma-separated list of 2 to 10 options."
                    ),
                    scale=spec.strip(),
                )
            raw: Sequence[Any] = spec.split(",")
        else:
            raw = spec
        if not all(isinstance(item, str) for item in raw):
            raise refuse(ValidationFailed, N_("Scale options must be text."))
        options = tuple(item.strip() for item in raw)
        if not MIN_OPTIONS <= len(options) <= MAX_CUSTOM_OPTIONS:
            raise refuse(
                ValidationFailed,
                N_("A custom scale needs %(min)s to %(max)s options, not %(count)s."),
                min=MIN_OPTIONS,
                max=MAX_CUSTOM_OPTIONS,
                count=len(options),
            )
        if any(option.casefold() in RESERVED_OPTIONS for option in options):
            raise refuse(
                ValidationFailed,
                N_("'tie' cannot be a scale option: the report uses it for ties."),
            )
        return cls(options)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "options": list(self.options)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scale:
        options = data.get("options")
        if not isinstance(options, list | tuple):
            raise refuse(ValidationFailed, N_("A stored scale needs a list of options."))
        scale = cls(tuple(options))
        if "kind" in data and data["kind"] != scale.kind:
            raise refuse(
                ValidationFailed,
                N_("Stored scale kind '%(kind)s' does not match options."),
                kind=data["kind"],
            )
        return scale

    @cached_property
    def _by_folded(self) -> dict[str, str]:
        return {option.casefold(): option for option in self.options}

    @cached_property
    def _index(self) -> dict[str, int]:
        return {option: i for i, option in enumerate(self.options)}

    @cached_property
    def max_option(self) -> str | None:
        """The numeric option with the largest value, as spelled (used for ``7/10``)."""
        if self.max_numeric is None:
            return None
        return next(o for o in self.options if int(o) == self.max_numeric)

    @cached_property
    def values(self) -> tuple[int, ...]:
        """Integer value of each option, in option order (numeric scales only)."""
        if self.kind != "numeric":
            raise ValueError("a categorical scale has no numeric values")
        return tuple(int(option) for option in self.options)

    def canonical(self, text: str) -> str | None:
        """The option as spelled in the scale for ``text`` (trimmed, any case), or None."""
        return self._by_folded.get(text.strip().casefold())

    def index(self, option: str) -> int:
        """Position of ``option`` (any case); ValidationFailed when it is not an option."""
        canonical = self.canonical(option)
        if canonical is None:
            raise refuse(
                ValidationFailed, N_("'%(option)s' is not an option of this scale."), option=option
            )
        return self._index[canonical]


def check_poll_compatible(scale: Scale) -> None:
    """Twitch polls take 2 to 5 choices of at most 25 characters each."""
    if not MIN_OPTIONS <= len(scale.options) <= POLL_MAX_OPTIONS:
        raise refuse(
            ValidationFailed,
            N_(
                "Twitch polls allow %(min)s to %(max)s choices; this scale has "
                "%(count)s options. Use chat voting or a smaller scale."
            ),
            min=MIN_OPTIONS,
            max=POLL_MAX_OPTIONS,
            count=len(scale.options),
        )
    too_long = [o for o in scale.options if len(o) > POLL_MAX_OPTION_CHARS]
    if too_long:
        raise refuse(
            ValidationFailed,
            N_("Twitch poll choices are at most %(max)s characters: '%(option)s' is too long."),
            max=POLL_MAX_OPTION_CHARS,
            option=too_long[0],
        )


def _check_options(options: tuple[str, ...]) -> None:
    if len(options) < MIN_OPTIONS:
        raise refuse(
            ValidationFailed, N_("A scale needs at least %(min)s options."), min=MIN_OPTIONS
        )
    for option in options:
        if not isinstance(option, str) or not option.strip():
            raise refuse(ValidationFailed, N_("Scale options cannot be empty."))
        if option != option.strip():
            raise refuse(
                ValidationFailed,
                N_("Scale option '%(option)s' has surrounding spaces."),
                option=option,
            )
        if not option.isprintable() or any(0xD800 <= ord(ch) <= 0xDFFF for ch in option):
            raise refuse(ValidationFailed, N_("Scale options must be printable text."))
        if len(option) > MAX_OPTION_CHARS:
            raise refuse(
                ValidationFailed,
                N_("Scale option '%(option)s…' is longer than %(max)s characters."),
                option=option[:20],
                max=MAX_OPTION_CHARS,
            )
    if len({option.casefold() for option in options}) != len(options):
        raise refuse(ValidationFailed, N_("Scale options must be different (ignoring case)."))
