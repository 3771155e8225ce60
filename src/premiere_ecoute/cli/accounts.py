"""users create, tokens create."""

from __future__ import annotations

import typer

from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.cli.common import container, fail, quiet_logs, run, settings
from premiere_ecoute.demo import create_token, create_user

users = typer.Typer(help="Manage users.", no_args_is_help=True)
tokens = typer.Typer(help="Personal API tokens.", no_args_is_help=True)


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
