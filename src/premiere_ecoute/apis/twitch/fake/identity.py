"""Identities of the fake Twitch, derived from the login alone.

Users are created by a separate CLI process while the fake lives in the web process, so
nothing can be shared but the login: ids and tokens are computed from it.

- user id: ``fake_user_id(login)``, a stable nine-digit number from a hash of the login;
- user access token: ``fake-twitch-<login>`` (a refresh issues ``fake-twitch-<login>.<n>``);
- broadcaster type: ``partner`` for logins starting with "partner", none (``""``) for logins
  starting with "nonaffiliate" or "viewer", ``affiliate`` for everyone else.
"""

from __future__ import annotations

import re

from premiere_ecoute.apis.twitch.eventsub.envelope import stable_user_id

USER_TOKEN_PREFIX = "fake-twitch-"
APP_TOKEN_PREFIX = "fake-app-"
REFRESH_TOKEN_PREFIX = "fake-refresh-"
LOGIN_RE = re.compile(r"^[a-z0-9_]{1,25}$")


def normalise_login(login: str) -> str | None:
    """The login as Twitch stores it (lower case), or None when it cannot be a login."""
    value = login.strip().lstrip("@").lower()
    return value if LOGIN_RE.match(value) else None


def fake_user_id(login: str) -> str:
    """The fake Twitch's id for ``login``: the one EventSub fixtures use for it too."""
    return stable_user_id(login)


def fake_broadcaster_type(login: str) -> str:
    name = login.lower()
    if name.startswith("partner"):
        return "partner"
    if name.startswith(("nonaffiliate", "viewer")):
        return ""
    return "affiliate"


def user_token(login: str, generation: int = 0) -> str:
    suffix = f".{generation}" if generation else ""
    return f"{USER_TOKEN_PREFIX}{login}{suffix}"


def login_from_user_token(token: str) -> str | None:
    if not token.startswith(USER_TOKEN_PREFIX):
        return None
    return normalise_login(token[len(USER_TOKEN_PREFIX) :].split(".", 1)[0])


def login_from_refresh_token(token: str) -> str | None:
    if not token.startswith(REFRESH_TOKEN_PREFIX):
        return None
    return normalise_login(token[len(REFRESH_TOKEN_PREFIX) :].split(".", 1)[0])
