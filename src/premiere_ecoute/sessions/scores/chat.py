"""Which chat messages are votes (SPEC §4.1), and whose vote they are.

Grammar, applied to the message after trimming and case-folding:

    [ "!vote " | "!rate " | "!note " ] OPTION [ "/" MAX ] { "!" | "." | "?" }

``MAX`` is the largest numeric option and only exists on numeric scales. Anything else is not a
vote and is ignored silently. Trailing punctuation (``!``, ``.``, ``?``, in any mix) is trimmed
the same way on every scale, so ``Smash!`` and ``bad.`` both count; an option that itself ends
with such a character keeps it (the fewest characters are trimmed first). ``7.5`` is still not
a vote: only trailing punctuation goes.
"""

from __future__ import annotations

from typing import Literal

from premiere_ecoute.sessions.scores.scale import Scale

VOTE_PREFIXES = ("!vote ", "!rate ", "!note ")
# Chat commands the bot answers (issue: honest scores in chat). A message is a command when its
# first word, case-folded, is one of these; what follows is ignored. Votes are read first, so a
# scale option that looks like a command stays a vote.
COMMANDS = {"!score": "score", "!myvote": "myvote", "!top": "top"}

TRAILING_PUNCTUATION = "!.?"

ChatRole = Literal["viewer", "streamer", "ignored"]


def parse_vote(text: str, scale: Scale) -> str | None:
    """The option (spelled as in ``scale.options``) that ``text`` votes for, or None."""
    folded = text.strip().casefold()
    bodies = [folded]
    # An option could itself start like a prefix, so the unprefixed reading is tried too.
    bodies.extend(folded[len(prefix) :] for prefix in VOTE_PREFIXES if folded.startswith(prefix))
    for body in bodies:
        option = _match_body(body, scale)
        if option is not None:
            return option
    return None


def _match_body(body: str, scale: Scale) -> str | None:
    max_suffix = None if scale.max_option is None else "/" + scale.max_option.casefold()
    trailing = len(body) - len(body.rstrip(TRAILING_PUNCTUATION))
    # Fewest stripped first, so an option that ends with "!" or "." keeps its own.
    for stripped in range(trailing + 1):
        base = body[: len(body) - stripped]
        option = _option_for(base, scale)
        if option is not None:
            return option
        if max_suffix is not None and base.endswith(max_suffix):
            option = _option_for(base[: -len(max_suffix)], scale)
            if option is not None:
                return option
    return None


def _option_for(folded: str, scale: Scale) -> str | None:
    # canonical() trims, but the grammar allows no inner spaces around the option
    if not folded or folded != folded.strip():
        return None
    return scale.canonical(folded)


def parse_command(text: str) -> str | None:
    """``score``, ``myvote`` or ``top`` when ``text`` asks for it, else None."""
    stripped = text.strip()
    if not stripped.startswith("!"):
        return None
    return COMMANDS.get(stripped.split(maxsplit=1)[0].casefold())


def classify_chat(chatter_id: str, broadcaster_id: str, bot_user_id: str | None) -> ChatRole:
    """The bot's own messages are ignored; the broadcaster's are the streamer's rating."""
    if bot_user_id is not None and chatter_id == bot_user_id:
        return "ignored"
    if chatter_id == broadcaster_id:
        return "streamer"
    return "viewer"
