"""events replay, jobs failed."""

from __future__ import annotations

from typing import Any

import typer

from premiere_ecoute.cli.common import container, fail, quiet_logs, run, settings
from premiere_ecoute.core.jobs import list_failed_jobs
from premiere_ecoute.sessions.replay import figures_summary, replay_reports

events = typer.Typer(help="The event log.", no_args_is_help=True)
jobs = typer.Typer(help="The job queue.", no_args_is_help=True)


@events.command("replay")
def replay(
    session: int = typer.Option(None, "--session", help="Only this session id"),
    figures: bool = typer.Option(
        False, "--figures", help="Also print the honest figures of each rebuilt report"
    ),
) -> None:
    """Rebuild reports from events alone, honest figures included; print differences (exit 1
    when any)."""
    quiet_logs()
    s = settings()

    async def main() -> int:
        async with container(s) as c, c.db.session() as db:
            result = await replay_reports(db, c.store, session)
        if session is not None and not result:
            fail(f"session {session} does not exist")
        bad = 0
        for sid, (diffs, rebuilt) in result.items():
            if diffs:
                bad += 1
                typer.echo(f"session {sid}: {len(diffs)} difference(s)")
                for d in diffs[:50]:
                    typer.echo(f"  {d}")
            else:
                typer.echo(f"session {sid}: identical")
            if figures:
                for line in figures_summary(rebuilt):
                    typer.echo(f"  {line}")
        typer.echo(f"{len(result)} session(s) replayed, {bad} with differences")
        return bad

    if run(main):
        raise typer.Exit(1)


@jobs.command("failed")
def failed(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """List failed jobs (kept for inspection and retry)."""
    quiet_logs()
    s = settings()

    async def main() -> list[dict[str, Any]]:
        async with container(s) as c, c.jobs.open_async():
            return await list_failed_jobs(c.jobs, limit)

    rows = run(main)
    for r in rows:
        typer.echo(f"{r['id']}\t{r['task']}\tattempts={r['attempts']}\t{r['args']}")
    typer.echo(f"{len(rows)} failed job(s)")
