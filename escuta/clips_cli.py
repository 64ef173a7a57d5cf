"""`escuta clips ...` and `escuta jobs`: the clips commands, mounted on the main CLI by `escuta/cli.py`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

clips_app = typer.Typer(name="clips", help="Twitch clips and bursts (seed 004).", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"escuta: {message}", err=True)
    return typer.Exit(1)


@clips_app.command("import")
def import_command(
    org: Annotated[str, typer.Option("--org", help="Organization id (UUID) the streamers belong to.")],
    streamers: Annotated[
        Path | None, typer.Option("--streamers", help="streamers.csv (seed 004 columns).", dir_okay=False)
    ] = None,
    clips: Annotated[
        Path | None, typer.Option("--clips", help="clipes.csv (seed 004 columns).", dir_okay=False)
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count; write nothing.")] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows even if some are invalid.")
    ] = False,
) -> None:
    """Import streamers and clips from CSV, validate every row, and compute bursts of the new clips."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from db.pool import create_pool
    from escuta.cli import guarded, load_settings, require_database_url
    from jobs.clips.csv_import import ImportRejected, import_csv

    if streamers is None and clips is None:
        raise _fail("give --streamers FILE, --clips FILE or both")
    for path in (streamers, clips):
        if path is not None and not path.is_file():
            raise _fail(f"no such file: {path}")
    try:
        org_id = UUID(org)
    except ValueError:
        raise _fail(f"--org must be an organization id (UUID), not {org!r}") from None
    settings = load_settings()
    dsn = require_database_url(settings)

    async def go() -> None:
        pool = await create_pool(dsn, settings, min_size=1, max_size=2)
        bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
        )
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        try:
            with bar:
                report = await import_csv(
                    pool,
                    settings,
                    org_id,
                    streamers_csv=streamers,
                    clips_csv=clips,
                    dry_run=dry_run,
                    skip_invalid=skip_invalid,
                    progress=progress,
                )
        except ImportRejected as exc:
            for e in exc.errors:
                typer.echo(str(e), err=True)
            raise _fail(f"{exc} (fix the rows or use --skip-invalid)") from None
        except LookupError as exc:
            raise _fail(str(exc)) from None
        finally:
            await pool.close()
        for e in report.skipped:
            typer.echo(f"skipped {e}", err=True)
        prefix = "dry run, nothing written: would import" if report.dry_run else "imported"
        typer.echo(
            f"{prefix} streamers {report.streamers_created} new / {report.streamers_updated} updated, "
            f"clips {report.clips_new} new / {report.clips_updated} updated, "
            f"bursts {report.bursts_created} new / {report.bursts_grown} grown"
            + (f", {len(report.skipped)} invalid row(s) skipped" if report.skipped else "")
        )

    guarded(lambda: asyncio.run(go()))


def jobs_command() -> None:
    """Run the job scheduler (Twitch clip ingestion, ...); safe to start in several processes."""
    from escuta.cli import guarded, load_settings, require_database_url
    from jobs.runner import run_jobs

    settings = load_settings()
    require_database_url(settings)
    guarded(lambda: run_jobs(settings))
