"""The `escuta` command: run everything locally, or each part on its own.

    escuta run       embedded or configured database, migrations, control API and agent worker
    escuta api       the control API (uvicorn)
    escuta worker    a LiveKit agent worker
    escuta replay    run an agent profile on an audio file (the worker's code, offline)
    escuta migrate   apply database migrations
    escuta jobs      the job scheduler (Twitch clip ingestion, ...); also a child of `escuta run`
    escuta clips     clips and bursts: `escuta clips import` loads seed 004's CSV files
    escuta settings  list every setting (``--markdown`` for the README table)
    escuta openapi   print the control API's OpenAPI document (``--output docs/openapi.json``)
    escuta admin     platform administration (``admin create-user EMAIL``: a platform admin user)

Failures print one line saying why and exit non-zero; tracebacks are for bugs, not for bad input.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from core.logs import setup_logging
from core.settings import ConfigError, Settings, flat_fields, settings_table_markdown
from escuta.admin_cli import admin_app
from escuta.clips_cli import clips_app, jobs_command

app = typer.Typer(
    name="escuta",
    help="Escuta: real-time voice intelligence for LiveKit rooms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(admin_app, name="admin")
log = logging.getLogger("escuta.cli")
T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"escuta: {message}", err=True)
    return typer.Exit(code)


def env_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable of a validation error's location (``("api", "port")`` -> ESCUTA_API_PORT)."""
    path = tuple(str(p) for p in loc)
    for f in flat_fields().values():
        if f.path == path[: len(f.path)]:
            return f.env_names[0]
    return ".".join(path) or "settings"


def load_settings(*, configure_logging: bool = True) -> Settings:
    try:
        settings = Settings()
        settings.check_production()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"invalid setting {env_name(first.get('loc', ()))}: {first.get('msg')}") from None
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if configure_logging:
        setup_logging(settings.log_level, settings.log_format)
    return settings


def guarded(fn: Callable[[], T]) -> T:
    """Turn expected operational failures into one line and a non-zero exit."""
    from db.migrate import MigrationError

    try:
        return fn()
    except MigrationError as exc:
        raise fail(f"migration failed: {exc}") from None
    except ConfigError as exc:
        raise fail(str(exc)) from None
    except (TimeoutError, OSError) as exc:
        raise fail(f"cannot reach the database: {exc}") from None


def require_database_url(settings: Settings) -> str:
    if not settings.db.url:
        raise fail("ESCUTA_DATABASE_URL is not set (or use `escuta run`, which starts an embedded database)")
    return settings.db.url


@app.command()
def migrate(
    status: Annotated[bool, typer.Option("--status", help="Only list pending migrations.")] = False,
) -> None:
    """Apply pending database migrations (safe to run from several processes at once)."""
    from db import migrate as m

    settings = load_settings()
    dsn = require_database_url(settings)

    async def go() -> None:
        import asyncpg

        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            if status:
                pending = await m.pending(conn)
                for mig in pending:
                    typer.echo(f"pending {mig.version:04d}_{mig.name}")
                typer.echo(f"{len(pending)} pending migration(s)")
                return
            done = await m.migrate(conn)
            typer.echo(
                f"applied {len(done)} migration(s)"
                + (": " + ", ".join(f"{d.version:04d}_{d.name}" for d in done) if done else "; database is up to date")
            )
        finally:
            await conn.close()

    guarded(lambda: asyncio.run(go()))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Bind address (default ESCUTA_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default ESCUTA_API_PORT).")] = None,
) -> None:
    """Serve the control API with uvicorn."""
    import uvicorn

    from control_api.limits import server_limits
    from stt.models import warn_model_shutdowns

    settings = load_settings()
    require_database_url(settings)
    warn_model_shutdowns(settings)
    uvicorn.run(
        "control_api.main:app",
        host=host or settings.api.host,
        port=port or settings.api.port,
        workers=settings.api.workers,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For is read by the app, only from ESCUTA_TRUSTED_PROXIES (control_api/abuse.py):
        # uvicorn's own handling trusts any local peer by default.
        proxy_headers=False,
        access_log=False,
        **server_limits(settings),
    )


@app.command()
def worker() -> None:
    """Run a LiveKit agent worker; it keeps retrying until the LiveKit server answers."""
    from agents.worker import run_worker

    # livekit-agents installs its own log handlers for the worker and its job processes.
    settings = load_settings(configure_logging=False)
    run_worker(settings)


@app.command()
def run(
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not start the agent worker.")] = False,
) -> None:
    """Run Escuta locally: database (embedded if ESCUTA_DATABASE_URL is unset), migrations, API and worker."""
    from escuta.supervisor import run_all

    settings = load_settings()
    code = guarded(lambda: run_all(settings, with_worker=not no_worker))
    raise typer.Exit(code)


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="Audio file (any format PyAV reads).")],
    profile: Annotated[str, typer.Option(help="Profile to run.")] = "transcription",
    speakers: Annotated[int, typer.Option(help="Participants: one per channel (2 for a stereo interview).")] = 1,
    realtime: Annotated[bool, typer.Option("--realtime", help="Feed the audio at real-time pace.")] = False,
    store: Annotated[bool, typer.Option("--store", help="Record a session and its transcripts.")] = False,
    language: Annotated[
        str | None, typer.Option(help="What the audio speaks (`pt-BR`, `en`; default ESCUTA_STT_LANGUAGE).")
    ] = None,
) -> None:
    """Run a profile on an audio file through the worker's own code; prints JSON lines and a summary."""
    from agents.replay import ReplayError
    from agents.replay import replay as run_replay
    from stt import LanguageUnsupportedError

    settings = load_settings()
    if language is not None:
        try:
            settings = settings.replace(stt_language=language)
        except ValueError:
            raise fail(f"--language {language!r} is not a language tag (e.g. pt-BR, en)") from None
    try:
        asyncio.run(run_replay(file, settings, profile=profile, speakers=speakers, realtime=realtime, store=store))
    except (ReplayError, LanguageUnsupportedError) as exc:
        raise fail(str(exc)) from None
    except LookupError as exc:  # MissingCredentialError, unknown provider
        raise fail(str(exc)) from None


@app.command("settings")
def show_settings(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the README table.")] = False,
    update_readme: Annotated[
        Path | None, typer.Option("--update-readme", help="Rewrite the table in this README file.")
    ] = None,
) -> None:
    """List every setting with its default and description."""
    if update_readme is not None:
        from core.settings import replace_readme_table

        try:
            text = update_readme.read_text(encoding="utf-8")
            update_readme.write_text(replace_readme_table(text), encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise fail(str(exc)) from None
        return
    if markdown:
        typer.echo(settings_table_markdown())
        return
    for f in flat_fields().values():
        typer.echo(f"{f.env_names[0]} (settings.{'.'.join(f.path)}): {f.info.description or ''}")


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="Write here instead of printing (docs/openapi.json).")] = None,
) -> None:
    """Print the control API's OpenAPI document (the one checked into docs/openapi.json)."""
    from control_api.openapi import openapi_json

    text = openapi_json()
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror}") from None


app.add_typer(clips_app)
app.command("jobs")(jobs_command)


def main() -> None:
    # `python -m escuta.cli` and the console script behave the same.
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app(prog_name="escuta")


if __name__ == "__main__":
    main()
