"""Account command handlers (SPEC §1): registration and Twitch sign-in, connections, API
tokens, roles, the per-streamer Spotify app, follows, impersonation and account deletion.

Error messages are gettext msgids with their values kept apart (``core.errors.refuse``), so
the pages can show them in the reader's language."""

from __future__ import annotations

import functools

from premiere_ecoute.accounts import events
from premiere_ecoute.accounts import repository as repo
from premiere_ecoute.accounts.commands import (
    SELF_SERVICE_ROLES,
    ChangeRole,
    CreateApiToken,
    DeleteAccount,
    FollowStreamer,
    LinkConnection,
    RegisterUser,
    RevokeApiToken,
    SetRatingsVisibility,
    SetSpotifyApp,
    SignInWithTwitch,
    StartImpersonation,
    SwitchRole,
    UnfollowStreamer,
)
from premiere_ecoute.accounts.models import Role, RolePolicy, User
from premiere_ecoute.accounts.ports import UserActivity
from premiere_ecoute.accounts.queries import streamer_by_login, user_by_login, user_by_twitch_id
from premiere_ecoute.core.command_bus import CommandBus
from premiere_ecoute.core.crypto import Encryptor, new_api_token
from premiere_ecoute.core.errors import (
    N_,
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
    refuse,
)
from premiere_ecoute.core.unit_of_work import UnitOfWork

STREAMING_ROLES = (Role.STREAMER.value, Role.ADMIN.value)
# Twitch affiliates and partners become streamers at their first login (SPEC §1).
STREAMER_BROADCASTER_TYPES = ("affiliate", "partner")


async def _user(uow: UnitOfWork, user_id: int) -> User:
    user = await repo.locked_user(uow.session, user_id)
    if user is None:
        raise refuse(NotFound, N_("This user does not exist."))
    return user


async def _admin(uow: UnitOfWork, user_id: int) -> User:
    actor = await uow.session.get(User, user_id)
    if actor is None or actor.role != Role.ADMIN.value:
        raise refuse(Forbidden, N_("Only an admin can do this."))
    return actor


async def register_user(cmd: RegisterUser, uow: UnitOfWork, *, roles: RolePolicy) -> User:
    s = uow.session
    if await user_by_login(s, cmd.login) is not None:
        raise refuse(Conflict, N_("a user with login '%(login)s' already exists"), login=cmd.login)
    if cmd.twitch_user_id and await user_by_twitch_id(s, cmd.twitch_user_id) is not None:
        raise refuse(Conflict, N_("this Twitch account is already registered"))
    user = await repo.add_user(
        s,
        User(
            login=cmd.login,
            display_name=cmd.display_name or cmd.login,
            role=roles.role_for(cmd.login, cmd.role),
            twitch_user_id=cmd.twitch_user_id,
            broadcaster_type=cmd.broadcaster_type,
        ),
    )
    uow.record(
        events.UserRegistered(
            user_id=user.id, login=user.login, role=user.role, twitch_user_id=user.twitch_user_id
        ),
        expected_version=0,
    )
    return user


async def sign_in_with_twitch(
    cmd: SignInWithTwitch, uow: UnitOfWork, *, roles: RolePolicy
) -> tuple[User, bool]:
    """The user of a Twitch account and whether this login created them. A user made with
    the CLI before their first login is linked by login."""
    s = uow.session
    login = cmd.login.strip().lower()
    user = await user_by_twitch_id(s, cmd.twitch_user_id)
    if user is None:
        user = await user_by_login(s, login)
        if user is not None and user.twitch_user_id not in (None, cmd.twitch_user_id):
            raise refuse(
                Conflict,
                N_(
                    "the login '%(login)s' belongs to another Twitch account here; "
                    "ask an admin to sort it out"
                ),
                login=login,
            )
    if user is None:
        requested = (
            Role.STREAMER.value
            if cmd.broadcaster_type in STREAMER_BROADCASTER_TYPES
            else Role.VIEWER.value
        )
        created = await register_user(
            RegisterUser(
                login=login,
                role=requested,
                display_name=cmd.display_name or login,
                twitch_user_id=cmd.twitch_user_id,
                broadcaster_type=cmd.broadcaster_type,
            ),
            uow,
            roles=roles,
        )
        return created, True
    user.twitch_user_id = cmd.twitch_user_id
    user.display_name = cmd.display_name or user.display_name
    user.broadcaster_type = cmd.broadcaster_type
    role = roles.role_for(user.login, user.role)
    if role != user.role:
        user.role = role
        uow.record(events.RoleChanged(user_id=user.id, role=role))
    return user, False


async def create_api_token(cmd: CreateApiToken, uow: UnitOfWork) -> str:
    if not await uow.session.get(User, cmd.user_id):
        raise refuse(NotFound, N_("no such user"))
    token = new_api_token()
    row = await repo.add_api_token(uow.session, cmd.user_id, cmd.name, token)
    uow.record(events.ApiTokenCreated(user_id=cmd.user_id, token_id=row.id, name=cmd.name))
    return token


async def revoke_api_token(cmd: RevokeApiToken, uow: UnitOfWork) -> None:
    row = await repo.locked_api_token(uow.session, cmd.token_id)
    if row is None or row.user_id != cmd.user_id:
        raise refuse(NotFound, N_("This API token does not exist."))
    if row.revoked_at is not None:
        raise refuse(Conflict, N_("This API token is already revoked."))
    row.revoked_at = uow.clock.now()
    uow.record(events.ApiTokenRevoked(user_id=cmd.user_id, token_id=row.id))


async def link_connection(cmd: LinkConnection, uow: UnitOfWork, *, encryptor: Encryptor) -> None:
    await repo.upsert_connection(
        uow.session,
        {
            "user_id": cmd.user_id,
            "provider": cmd.provider,
            "external_id": cmd.external_id,
            "access_token_enc": encryptor.encrypt(cmd.access_token),
            "refresh_token_enc": encryptor.encrypt(cmd.refresh_token)
            if cmd.refresh_token
            else None,
            "expires_at": cmd.expires_at,
            "scopes": cmd.scopes,
            "status": "ok",
        },
    )
    uow.record(events.ConnectionLinked(user_id=cmd.user_id, provider=cmd.provider))


async def switch_role(cmd: SwitchRole, uow: UnitOfWork, *, activity: UserActivity) -> None:
    user = await _user(uow, cmd.user_id)
    if user.role not in SELF_SERVICE_ROLES:
        raise refuse(Forbidden, N_("Your role is managed by the instance; ask an admin."))
    if user.role == cmd.role:
        return
    if cmd.role == Role.VIEWER.value and await activity.is_live(uow.session, user.id):
        raise refuse(InvalidState, N_("Stop your listening session first."))
    user.role = cmd.role
    await repo.end_web_sessions(uow.session, user.id, keep=cmd.keep_session)
    uow.record(events.RoleChanged(user_id=user.id, role=cmd.role))


async def change_role(cmd: ChangeRole, uow: UnitOfWork) -> None:
    await _admin(uow, cmd.actor_id)
    if cmd.actor_id == cmd.user_id and cmd.role != Role.ADMIN.value:
        raise refuse(Forbidden, N_("You cannot remove your own admin role."))
    user = await _user(uow, cmd.user_id)
    if user.role == cmd.role:
        return
    user.role = cmd.role
    # Every browser of that user logs in again, under the new role.
    await repo.end_web_sessions(uow.session, user.id)
    uow.record(events.RoleChanged(user_id=user.id, role=cmd.role))


async def set_spotify_app(cmd: SetSpotifyApp, uow: UnitOfWork, *, encryptor: Encryptor) -> None:
    user = await _user(uow, cmd.user_id)
    if cmd.client_id and user.role not in STREAMING_ROLES:
        raise refuse(Forbidden, N_("Switch to a streamer account to use your own Spotify app."))
    user.spotify_client_id = cmd.client_id or None
    user.spotify_client_secret_enc = encryptor.encrypt(cmd.client_secret) if cmd.client_id else None
    uow.record(events.SpotifyAppConfigured(user_id=user.id, client_id=cmd.client_id or None))


async def set_ratings_visibility(cmd: SetRatingsVisibility, uow: UnitOfWork) -> None:
    user = await _user(uow, cmd.user_id)
    if user.ratings_public == cmd.public:
        return
    user.ratings_public = cmd.public
    uow.record(events.RatingsVisibilityChanged(user_id=user.id, public=cmd.public))


async def follow_streamer(cmd: FollowStreamer, uow: UnitOfWork) -> User:
    login = cmd.streamer_login.strip().lower()
    streamer = await streamer_by_login(uow.session, login)
    if streamer is None:
        raise refuse(NotFound, N_("No streamer named %(login)s is registered here."), login=login)
    if streamer.id == cmd.user_id:
        raise refuse(ValidationFailed, N_("You cannot follow yourself."))
    if not await repo.follow(uow.session, cmd.user_id, streamer.id, "app"):
        raise refuse(Conflict, N_("You already follow %(login)s."), login=streamer.login)
    uow.record(events.StreamerFollowed(user_id=cmd.user_id, streamer_id=streamer.id))
    return streamer


async def unfollow_streamer(cmd: UnfollowStreamer, uow: UnitOfWork) -> None:
    if not await repo.unfollow(uow.session, cmd.user_id, cmd.streamer_id):
        raise refuse(NotFound, N_("You do not follow this streamer."))
    uow.record(events.StreamerUnfollowed(user_id=cmd.user_id, streamer_id=cmd.streamer_id))


async def start_impersonation(cmd: StartImpersonation, uow: UnitOfWork) -> User:
    await _admin(uow, cmd.admin_id)
    if cmd.admin_id == cmd.user_id:
        raise refuse(ValidationFailed, N_("You cannot impersonate yourself."))
    user = await _user(uow, cmd.user_id)
    uow.record(events.ImpersonationStarted(user_id=user.id, admin_id=cmd.admin_id))
    return user


async def delete_account(cmd: DeleteAccount, uow: UnitOfWork, *, activity: UserActivity) -> str:
    """Removes the user, their tokens, connections, follows (both ways), votes and sessions,
    and makes what the event log and the inbox keep of them anonymous; records
    ``AccountDeleted``. Returns the deleted login."""
    s = uow.session
    if cmd.actor_id != cmd.user_id:
        await _admin(uow, cmd.actor_id)
    user = await _user(uow, cmd.user_id)
    if cmd.confirm_login.strip().lower() != user.login:
        raise refuse(
            ValidationFailed,
            N_("Type the login %(login)s exactly to confirm the deletion."),
            login=user.login,
        )
    if await activity.is_live(s, user.id):
        raise refuse(
            InvalidState, N_("Stop the live listening session before deleting the account.")
        )
    viewer_ids = [f"user:{user.id}", *([user.twitch_user_id] if user.twitch_user_id else [])]
    for event in await activity.erase(s, user.id, viewer_ids, cmd.actor_id):
        uow.record(event)
    await repo.end_web_sessions(s, user.id)
    await repo.delete_user(s, user)
    uow.record(events.AccountDeleted(user_id=user.id))
    return user.login


def register_account_handlers(
    bus: CommandBus, *, encryptor: Encryptor, roles: RolePolicy, activity: UserActivity
) -> None:
    bus.register(RegisterUser, functools.partial(register_user, roles=roles))
    bus.register(SignInWithTwitch, functools.partial(sign_in_with_twitch, roles=roles))
    bus.register(CreateApiToken, create_api_token)
    bus.register(RevokeApiToken, revoke_api_token)
    bus.register(LinkConnection, functools.partial(link_connection, encryptor=encryptor))
    bus.register(SwitchRole, functools.partial(switch_role, activity=activity))
    bus.register(ChangeRole, change_role)
    bus.register(SetSpotifyApp, functools.partial(set_spotify_app, encryptor=encryptor))
    bus.register(SetRatingsVisibility, set_ratings_visibility)
    bus.register(FollowStreamer, follow_streamer)
    bus.register(UnfollowStreamer, unfollow_streamer)
    bus.register(StartImpersonation, start_impersonation)
    bus.register(DeleteAccount, functools.partial(delete_account, activity=activity))
