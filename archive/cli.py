"""The `chorus` command line."""

from __future__ import annotations

import json
import secrets
import sys
from datetime import timedelta
from functools import wraps

import click
from sqlalchemy import select

from .db import DatabaseUnavailable, check_database
from .services import Services
from .settings import ConfigurationError, load_settings

SETUP_ERRORS: tuple[type[Exception], ...] = (ConfigurationError, DatabaseUnavailable)


def _setup_errors() -> tuple[type[Exception], ...]:
    from ingest.queue import QueueUnavailable

    from .storage.base import StorageUnavailable

    return SETUP_ERRORS + (StorageUnavailable, QueueUnavailable)


def friendly_errors(func):
    """Turn setup problems (bad config, unreachable database, bucket or queue) into one clear line and exit 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _setup_errors() as exc:
            click.echo(f"chorus: {exc}", err=True)
            sys.exit(2)

    return wrapper


def emit(data, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def _services(ctx: click.Context) -> Services:
    if ctx.obj is None:
        ctx.obj = Services(load_settings())
    return ctx.obj


def _ready_services(ctx: click.Context) -> Services:
    svc = _services(ctx)
    check_database(svc.engine)
    return svc


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group()
@click.version_option(package_name="chorus-archive")
def main():
    """Chorus: a consented archive of children's and families' voices."""


@main.command()
@click.pass_context
@friendly_errors
def init(ctx):
    """Create the data folder, migrate the database and check storage and the queue."""
    from ingest.queue import check_queue

    from . import schema

    svc = _services(ctx)
    svc.settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        schema.upgrade(svc.engine)
    except Exception as exc:  # driver errors vary by backend; all mean "cannot use this database"
        raise DatabaseUnavailable(f"cannot migrate the database: {str(exc).splitlines()[0]}") from None
    svc.storage.check()
    check_queue(svc.huey)
    click.echo(f"Chorus is ready in {svc.settings.data_dir}")


def _run_server(svc: Services, host: str, port: int, worker: bool) -> None:
    from waitress import serve as waitress_serve

    from ingest.jobs import bind_services, warm_up
    from ingest.queue import start_embedded_consumer
    from ingest.resume import requeue_unfinished

    from .web import create_app

    check_database(svc.engine)
    svc.storage.check()
    app = create_app(svc.settings, services=svc)
    bind_services(svc)
    if worker and svc.settings.uses_embedded_queue:
        # Before the worker starts, this process is the only one that could be processing.
        requeue_unfinished(svc, quiet_for=timedelta(0))
    stop = start_embedded_consumer(svc.huey) if worker else None
    if worker:
        warm_up()
    click.echo(f"Chorus is running at http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        waitress_serve(app, host=host, port=port, threads=8, clear_untrusted_proxy_headers=True)
    finally:
        if stop:
            stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--worker/--no-worker", default=None, help="Run the job worker in this process (default: with the embedded queue).")
@click.pass_context
@friendly_errors
def serve(ctx, host, port, worker):
    """Serve the web app (and, with the embedded queue, the worker too)."""
    svc = _services(ctx)
    _run_server(svc, host, port, svc.settings.uses_embedded_queue if worker is None else worker)


@main.command()
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_context
@friendly_errors
def worker(ctx, workers):
    """Run the job worker in the foreground."""
    from huey.consumer import Consumer

    from ingest.jobs import bind_services, warm_up
    from ingest.queue import check_queue
    from ingest.resume import requeue_unfinished

    svc = _ready_services(ctx)
    check_queue(svc.huey)
    bind_services(svc)
    # Other workers may be running jobs now, so only items quiet for longer than any step takes.
    requeue_unfinished(svc)
    warm_up()
    Consumer(svc.huey, workers=workers, worker_type="thread").run()


@main.command()
@click.option("--serve/--no-serve", "then_serve", default=True, help="Serve after loading (default) or only load.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
@friendly_errors
def demo(ctx, then_serve, host, port):
    """Load the demo programme (invented people, real media) through the pipeline, then serve it."""
    from . import schema
    from .demo.loader import load_demo

    svc = _services(ctx)
    schema.upgrade(svc.engine)
    result = load_demo(svc, echo=click.echo)
    for line in result.summary_lines(f"http://{host}:{port}"):
        click.echo(line)
    if then_serve:
        _run_server(svc, host, port, svc.settings.uses_embedded_queue)


def _register_subsystem_commands() -> None:
    from ingest.cli import import_command
    from media.cli import models, transcribe
    from search.cli import search_command

    main.add_command(import_command, "import")
    main.add_command(models)
    main.add_command(transcribe)
    main.add_command(search_command, "search")


_register_subsystem_commands()


@main.group()
def programme():
    """Programmes (listening exercises)."""


@programme.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--framework", default="determinants", show_default=True)
@json_option
@click.pass_context
@friendly_errors
def programme_add(ctx, code, name, framework, as_json):
    """Create a programme."""
    from .principal import SYSTEM
    from .programmes import ProgrammeError, create_programme

    svc = _ready_services(ctx)
    with svc.session() as db:
        try:
            created = create_programme(db, SYSTEM, code, name, framework)
        except ProgrammeError as exc:
            raise click.ClickException(str(exc)) from None
        db.commit()
        emit({"code": created.code, "name": created.name, "framework": created.framework}, as_json,
             f"Created programme {created.code} ({created.name})")


@main.group()
def session():
    """Sessions participants join with a code."""


@session.command("add")
@click.argument("programme_code")
@click.argument("name")
@click.option("--place", "place_type", required=True, help="school, family_hub, youth_club, community, home, online, other")
@click.option("--area", "area_code", required=True, help="Ward or area code, e.g. RV01")
@click.option("--age-band", default=None, help="family_0_5, 5_11, 11_15, 16_19, 20_25_send")
@click.option("--hours", default=None, type=int, help="How long the join code works (default from settings).")
@json_option
@click.pass_context
@friendly_errors
def session_add(ctx, programme_code, name, place_type, area_code, age_band, hours, as_json):
    """Create a session and print its join code."""
    from .models import AgeBand, PlaceType, Programme
    from .principal import SYSTEM
    from .programmes import ProgrammeError, create_session

    svc = _ready_services(ctx)
    try:
        place = PlaceType(place_type)
        band = AgeBand(age_band) if age_band else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    with svc.session() as db:
        prog = db.scalar(select(Programme).where(Programme.code == programme_code))
        if prog is None:
            raise click.ClickException(f"no programme with the code {programme_code!r}")
        try:
            created = create_session(db, SYSTEM, prog, name, place, area_code, band,
                                     timedelta(hours=hours or svc.settings.join_code_hours))
        except ProgrammeError as exc:
            raise click.ClickException(str(exc)) from None
        db.commit()
        emit({"join_code": created.join_code, "expires_at": created.join_code_expires_at.isoformat()}, as_json,
             f"Join code: {created.join_code} (works until {created.join_code_expires_at:%d %b %Y %H:%M} UTC)")


@main.group()
def user():
    """Staff accounts."""


@user.command("add")
@click.argument("email")
@click.option("--name", default="")
@click.option("--programme", "programme_code", default=None, help="Programme to give the role in.")
@click.option("--role", type=click.Choice(["admin", "facilitator", "analyst"]), default=None)
@click.option("--site-admin", is_flag=True, help="May create programmes and manage every account.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input; otherwise one is generated.")
@json_option
@click.pass_context
@friendly_errors
def user_add(ctx, email, name, programme_code, role, site_admin, password_stdin, as_json):
    """Create a staff account (and a role in a programme)."""
    from .accounts import AccountError, create_user, grant_role
    from .models import Programme, Role
    from .principal import SYSTEM

    if bool(role) != bool(programme_code):
        raise click.UsageError("--role and --programme go together")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
    svc = _ready_services(ctx)
    with svc.session() as db:
        try:
            created = create_user(db, SYSTEM, email, name, password, site_admin=site_admin)
            if role:
                prog = db.scalar(select(Programme).where(Programme.code == programme_code))
                if prog is None:
                    raise click.ClickException(f"no programme with the code {programme_code!r}")
                grant_role(db, SYSTEM, created, prog, Role(role))
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.commit()
        shown = None if password_stdin else password
        emit({"email": created.email, "password": shown}, as_json,
             f"Created {created.email}" + (f"; password: {shown}" if shown else ""))


@main.command()
@json_option
@click.pass_context
@friendly_errors
def fsck(ctx, as_json):
    """Check every stored object against its recorded checksum; exit 1 if anything is wrong."""
    from .fsck import fsck as run_fsck

    svc = _ready_services(ctx)
    with svc.session() as db:
        report = run_fsck(db, svc.storage)
    lines = [f"checked {report.checked} objects: {len(report.ok)} ok"]
    for label in ("changed", "missing", "untracked", "pending_erasure"):
        lines += [f"{label}: {key}" for key in getattr(report, label)]
    lines.append(f"erased items expected absent: {report.expected_absent}")
    emit(report.as_dict(), as_json, "\n".join(lines))
    sys.exit(0 if report.clean else 1)


@main.command()
@click.argument("text")
@click.option("--framework", default="determinants", show_default=True, help="Theme framework code.")
@json_option
def tag(text, framework, as_json):
    """Suggest themes for TEXT (or, with -, for each line of standard input)."""
    from ingest.tagger import format_suggestions, suggest_tags, tag_record

    from .frameworks import UnknownFramework, load_framework

    try:
        loaded = load_framework(framework)
    except UnknownFramework as exc:
        raise click.BadParameter(str(exc), param_hint="--framework") from None
    lines = [line.rstrip("\n") for line in sys.stdin] if text == "-" else [text]
    for line in lines:
        if not line.strip():
            continue
        suggestions = suggest_tags(line, loaded)
        if as_json:
            click.echo(json.dumps(tag_record(line, suggestions), ensure_ascii=False))
        else:
            click.echo(f"{line}\n{format_suggestions(suggestions)}\n")


@main.command()
@json_option
@click.pass_context
@friendly_errors
def reindex(ctx, as_json):
    """Rebuild the search index from the database."""
    from search.backends import backend_for

    svc = _ready_services(ctx)
    with svc.session() as db:
        count = backend_for(svc.settings).reindex(db)
    emit({"indexed": count}, as_json, f"Indexed {count} items")


if __name__ == "__main__":
    main()
