"""Account page and admin use cases (SPEC §1): role switch, token revocation, the per-streamer
Spotify app, follows, impersonation and account deletion.

Error messages are gettext msgids (marked with ``N_``) with their values kept apart
(``DomainError.params``), so the pages can show them in the reader's language."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sqlalchemy import delete, select

from premiere_ecoute.accounts import erasure, events
from premiere_ecoute.accounts.models import ApiToken, Follow, Role, User
from premiere_ecoute.core.command_bus import CommandBus
from premiere_ecoute.core.crypto import Encryptor
from premiere_ecoute.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from premiere_ecoute.core.messages import Command
from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.sessions.events import SessionDeleted, ViewerRatingsErased
from premiere_ecoute.sessions.models import ListeningSession, SessionVoter, Vote
from premiere_ecoute.sessions.queries import active_session_of
from premiere_ecoute.sessions.voting import erase_viewer_ratings

SELF_SERVICE_ROLES = (Role.VIEWER.value, Role.STREAMER.value)
STREAMING_ROLES = (Role.STREAMER.value, Role.ADMIN.value)
SPOTIFY_CREDENTIAL = re.compile(r"^[A-Za-z0-9]{16,64}$")


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; the page translates it when it shows the error."""
    return msgid


def fail(kind: type[DomainError], msgid: str, **params: Any) -> DomainError:
    error = kind(msgid % params if params else msgid)
    error.msgid = msgid  # type: ignore[attr-defined]
    error.params = params  # type: ignore[attr-defined]
    return error


# Events ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpotifyAppConfigured(events.AccountEvent):
    client_id: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class StreamerFollowed(events.AccountEvent):
    streamer_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class StreamerUnfollowed(events.AccountEvent):
    streamer_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImpersonationStarted(events.AccountEvent):
    admin_id: int


# Commands -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RevokeApiToken(Command):
    user_id: int
    token_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class SwitchRole(Command):
    """A user switches themselves between viewer and streamer."""

    user_id: int
    role: str

    def validate(self) -> None:
        if self.role not in SELF_SERVICE_ROLES:
            raise fail(ValidationFailed, N_("You can only switch between viewer and streamer."))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeRole(Command):
    """An admin sets anyone's role."""

    actor_id: int
    user_id: int
    role: str

    def validate(self) -> None:
        if self.role not in {r.value for r in Role}:
            raise fail(ValidationFailed, N_("Unknown role: %(role)s"), role=self.role)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetSpotifyApp(Command):
    """Bring your own Spotify app; an empty client id removes it."""

    user_id: int
    client_id: str
    client_secret: str

    def validate(self) -> None:
        if not self.client_id:
            return
        if not SPOTIFY_CREDENTIAL.match(self.client_id):
            raise fail(
                ValidationFailed,
                N_("The Spotify client ID should be 16 to 64 letters and digits."),
            )
        if not SPOTIFY_CREDENTIAL.match(self.client_secret):
            raise fail(
                ValidationFailed,
                N_("The Spotify client secret should be 16 to 64 letters and digits."),
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class FollowStreamer(Command):
    user_id: int
    streamer_login: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class UnfollowStreamer(Command):
    user_id: int
    streamer_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class StartImpersonation(Command):
    admin_id: int
    user_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeleteAccount(Command):
    """Deletes ``user_id``; ``confirm_login`` must be that user's login, typed by hand."""

    actor_id: int
    user_id: int
    confirm_login: str


# Handlers -------------------------------------------------------------------------------


async def _user(uow: UnitOfWork, user_id: int) -> User:
    user = await uow.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise fail(NotFound, N_("This user does not exist."))
    return user


async def _admin(uow: UnitOfWork, user_id: int) -> User:
    actor = await uow.session.get(User, user_id)
    if actor is None or actor.role != Role.ADMIN.value:
        raise fail(Forbidden, N_("Only an admin can do this."))
    return actor


async def revoke_api_token(cmd: RevokeApiToken, uow: UnitOfWork) -> None:
    row = await uow.session.get(ApiToken, cmd.token_id, with_for_update=True)
    if row is None or row.user_id != cmd.user_id:
        raise fail(NotFound, N_("This API token does not exist."))
    if row.revoked_at is not None:
        raise fail(Conflict, N_("This API token is already revoked."))
    row.revoked_at = uow.clock.now()
    uow.record(events.ApiTokenRevoked(user_id=cmd.user_id, token_id=row.id))


async def switch_role(cmd: SwitchRole, uow: UnitOfWork) -> None:
    user = await _user(uow, cmd.user_id)
    if user.role not in SELF_SERVICE_ROLES:
        raise fail(Forbidden, N_("Your role is managed by the instance; ask an admin."))
    if user.role == cmd.role:
        return
    if cmd.role == Role.VIEWER.value and await _live_session(uow, user.id):
        raise fail(InvalidState, N_("Stop your listening session first."))
    user.role = cmd.role
    uow.record(events.RoleChanged(user_id=user.id, role=cmd.role))


async def change_role(cmd: ChangeRole, uow: UnitOfWork) -> None:
    await _admin(uow, cmd.actor_id)
    if cmd.actor_id == cmd.user_id and cmd.role != Role.ADMIN.value:
        raise fail(Forbidden, N_("You cannot remove your own admin role."))
    user = await _user(uow, cmd.user_id)
    if user.role == cmd.role:
        return
    user.role = cmd.role
    uow.record(events.RoleChanged(user_id=user.id, role=cmd.role))


def make_set_spotify_app(encryptor: Encryptor):  # type: ignore[no-untyped-def]
    async def set_spotify_app(cmd: SetSpotifyApp, uow: UnitOfWork) -> None:
        user = await _user(uow, cmd.user_id)
        if cmd.client_id and user.role not in STREAMING_ROLES:
            raise fail(Forbidden, N_("Switch to a streamer account to use your own Spotify app."))
        user.spotify_client_id = cmd.client_id or None
        user.spotify_client_secret_enc = (
            encryptor.encrypt(cmd.client_secret) if cmd.client_id else None
        )
        uow.record(SpotifyAppConfigured(user_id=user.id, client_id=cmd.client_id or None))

    return set_spotify_app


async def follow_streamer(cmd: FollowStreamer, uow: UnitOfWork) -> User:
    s = uow.session
    login = cmd.streamer_login.strip().lower()
    streamer = await s.scalar(select(User).where(User.login == login))
    if streamer is None or streamer.role not in STREAMING_ROLES:
        raise fail(NotFound, N_("No streamer named %(login)s is registered here."), login=login)
    if streamer.id == cmd.user_id:
        raise fail(ValidationFailed, N_("You cannot follow yourself."))
    exists = await s.get(Follow, (cmd.user_id, streamer.id))
    if exists is not None:
        raise fail(Conflict, N_("You already follow %(login)s."), login=streamer.login)
    s.add(Follow(follower_id=cmd.user_id, streamer_id=streamer.id, source="app"))
    uow.record(StreamerFollowed(user_id=cmd.user_id, streamer_id=streamer.id))
    return streamer


async def unfollow_streamer(cmd: UnfollowStreamer, uow: UnitOfWork) -> None:
    row = await uow.session.get(Follow, (cmd.user_id, cmd.streamer_id))
    if row is None:
        raise fail(NotFound, N_("You do not follow this streamer."))
    await uow.session.delete(row)
    uow.record(StreamerUnfollowed(user_id=cmd.user_id, streamer_id=cmd.streamer_id))


async def start_impersonation(cmd: StartImpersonation, uow: UnitOfWork) -> User:
    await _admin(uow, cmd.admin_id)
    if cmd.admin_id == cmd.user_id:
        raise fail(ValidationFailed, N_("You cannot impersonate yourself."))
    user = await _user(uow, cmd.user_id)
    uow.record(ImpersonationStarted(user_id=user.id, admin_id=cmd.admin_id))
    return user


async def _live_session(uow: UnitOfWork, user_id: int) -> bool:
    return await active_session_of(uow.session, user_id) is not None


async def delete_account(cmd: DeleteAccount, uow: UnitOfWork) -> str:
    """Removes the user, their tokens, connections, follows (both ways), votes (by Twitch id)
    and sessions, and makes what the event log and the inbox keep of them anonymous
    (``erasure``); records ``AccountDeleted``. Returns the deleted login."""
    s = uow.session
    if cmd.actor_id != cmd.user_id:
        await _admin(uow, cmd.actor_id)
    user = await _user(uow, cmd.user_id)
    if cmd.confirm_login.strip().lower() != user.login:
        raise fail(
            ValidationFailed,
            N_("Type the login %(login)s exactly to confirm the deletion."),
            login=user.login,
        )
    if await _live_session(uow, user.id):
        raise fail(InvalidState, N_("Stop the live listening session before deleting the account."))
    viewer_ids = [f"user:{user.id}", *([user.twitch_user_id] if user.twitch_user_id else [])]
    aliases = erasure.pseudonyms(viewer_ids)
    # First, before any session row is locked: this may read much of the log and the inbox.
    await erasure.anonymise(s, user.id, aliases, user.twitch_user_id)
    rated = list(
        await s.scalars(
            select(ListeningSession.id)
            .where(
                ListeningSession.user_id != user.id,
                ListeningSession.id.in_(
                    select(Vote.session_id).where(Vote.viewer_id.in_(viewer_ids))
                ),
            )
            .order_by(ListeningSession.id)
            .with_for_update()
        )
    )
    await s.execute(delete(Vote).where(Vote.viewer_id.in_(viewer_ids)))
    await s.execute(delete(SessionVoter).where(SessionVoter.viewer_id.in_(viewer_ids)))
    for session_id in rated:
        # Their ratings leave the other streamers' reports too: counters rebuilt from what
        # remains, and the event log says so (a replay gives the same report).
        await erase_viewer_ratings(s, session_id)
        uow.record(
            ViewerRatingsErased(
                session_id=session_id, viewer_ids=tuple(aliases[v] for v in viewer_ids)
            )
        )
    session_ids = list(
        await s.scalars(select(ListeningSession.id).where(ListeningSession.user_id == user.id))
    )
    await s.execute(delete(ListeningSession).where(ListeningSession.user_id == user.id))
    await s.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    await s.execute(
        delete(Follow).where((Follow.follower_id == user.id) | (Follow.streamer_id == user.id))
    )
    await s.delete(user)
    by_admin = cmd.actor_id != cmd.user_id
    for session_id in session_ids:
        uow.record(
            SessionDeleted(session_id=session_id, by_user_id=cmd.actor_id, by_admin=by_admin)
        )
    uow.record(events.AccountDeleted(user_id=user.id))
    return user.login


def register_account_commands(bus: CommandBus, encryptor: Encryptor) -> None:
    """The account page and admin commands (wiring calls this once)."""
    bus.register(RevokeApiToken, revoke_api_token)
    bus.register(SwitchRole, switch_role)
    bus.register(ChangeRole, change_role)
    bus.register(SetSpotifyApp, make_set_spotify_app(encryptor))
    bus.register(FollowStreamer, follow_streamer)
    bus.register(UnfollowStreamer, unfollow_streamer)
    bus.register(StartImpersonation, start_impersonation)
    bus.register(DeleteAccount, delete_account)
