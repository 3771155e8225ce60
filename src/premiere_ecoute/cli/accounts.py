"""users create, tokens create, keys rotate."""

from __future__ import annotations

import typer

from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.accounts.repository import reencrypt_secrets
from premiere_ecoute.cli.common import container, fail, quiet_logs, run, settings
from premiere_ecoute.demo import create_token, create_user

users = typer.Typer(help="Manage users.", no_args_is_help=True)
tokens = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
keys = typer.Typer(help="SECRET_KEY rotation.", no_args_is_help=True)


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored secret with SECRET_KEY (the old key in SECRET_KEY_PREVIOUS)."""
    quiet_logs()
    s = settings()

    async def main() -> None:
        async with container(s) as c, c.db.session() as session:
            try:
                count = await reencrypt_secrets(session, c.encryptor)
            except ValueError as exc:
                fail(f"{exc}: put the former key in SECRET_KEY_PREVIOUS")
                return
            await session.commit()
        typer.echo(f"re-encrypted {count} stored secrets with the current SECRET_KEY")

    run(main)


@users.command("create")
def users_create(
    login: str = typer.Option(..., help="Twitch login (lowercase)"),
    role: str = typer.Option("viewer", help="viewer, streamer, admin or bot"),
) -> None:
    """Create a user (with the fakes on, linked to fake Twitch and fake Spotify)."""
    quiet_logs()
    s = settings()

    async def main() -> None:
        async with container(s) as c:
            user = await create_user(c, login, role)
            typer.echo(
                f"created user {user.login} (id {user.id}, role {user.role}"
                + (f", twitch id {user.twitch_user_id})" if user.twitch_user_id else ")")
            )

    run(main)


@tokens.command("create")
def tokens_create(
    login: str = typer.Option(..., help="Whose token"),
    name: str = typer.Option("cli", help="A label to recognise it"),
) -> None:
    """Print a new personal API token (and nothing else) on stdout."""
    quiet_logs()
    s = settings()

    async def main() -> None:
        async with container(s) as c:
            async with c.db.session() as session:
                user = await user_by_login(session, login)
            if user is None:
                fail(f"no user with login {login!r}")
                return
            typer.echo(await create_token(c, user.id, name))

    run(main)
