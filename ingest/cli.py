"""`chorus import`: bring a folder of media collected offline into a session.

archive.cli registers this command on the `chorus` group, so nothing from archive.cli is
imported at module level here: either module may be imported first without a cycle.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Iterator

import click
from tqdm import tqdm

from archive.models import AgeBand

from .importer import (
    ImportSetupError,
    ImportSummary,
    ManifestError,
    Processing,
    inline_processing,
    plan_import,
    queued_processing,
    run_import,
)

EXIT_INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C


def _friendly_errors(func):
    """archive.cli.friendly_errors, looked up when the command runs (see the module docstring)."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        from archive.cli import friendly_errors

        return friendly_errors(func)(*args, **kwargs)

    return wrapper


def _processing(svc, wait: bool) -> Processing:
    from huey import MemoryHuey

    from ingest.queue import check_queue

    if wait:
        return inline_processing(svc)
    check_queue(svc.huey)
    if isinstance(svc.huey, MemoryHuey) and not svc.huey.immediate:
        # A memory queue ends with this command, and its jobs with it.
        return inline_processing(svc)
    return queued_processing()


@contextmanager
def _progress(total: int, quiet: bool) -> Iterator[tqdm]:
    # On stderr so that --json output on stdout stays parseable; off when nobody is watching.
    bar = tqdm(total=total, unit="file", desc="Importing", file=sys.stderr,
               disable=quiet or not sys.stderr.isatty(), dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def summary_lines(summary: ImportSummary) -> list[str]:
    """The summary as a facilitator reads it: counts first, then every refusal with its reason."""
    lines = [
        f"Session {summary.session_code} ({summary.session_name}): {len(summary.accepted)} accepted, "
        f"{len(summary.already_imported)} already imported, {len(summary.refused)} refused."
    ]
    if any(o.processing == "queued" for o in summary.outcomes):
        lines.append("New items are queued for processing: `chorus serve` (or `chorus worker`) processes them.")
    if summary.refused:
        lines.append("Refused:")
        lines += [f"  {o.file}: {o.reason}" for o in summary.refused]
    if summary.processing_failed:
        lines.append("Accepted, but processing failed (shown to facilitators, who can retry it):")
        lines += [f"  {o.file}: {o.processing}" for o in summary.processing_failed]
    for alias in summary.without_consent:
        lines.append(f"No consent is recorded for {alias}: their items are kept, but nobody can see them until it is.")
    if summary.interrupted:
        lines.append("Interrupted: run the same command again to import the rest; nothing is imported twice.")
    return lines


def _exit_code(summary: ImportSummary) -> int:
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return 1 if summary.refused else 0


@click.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--session", "session_code", required=True, help="The session's join code (an expired code works).")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV naming each file's participant, its details and their consent (see docs/bulk-import.md).")
@click.option("--participant", "alias", default=None,
              help="Without a manifest: the one participant every file is from.")
@click.option("--age-band", type=click.Choice([band.value for band in AgeBand]), default=None,
              help="Without a manifest: that participant's age band.")
@click.option("--wait", is_flag=True, help="Process each item here before the next, instead of queueing it.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
@_friendly_errors
def import_command(ctx, folder, session_code, manifest, alias, age_band, wait, quiet, as_json):
    """Import a folder of photos, drawings, recordings, videos and .txt stories into a session.

    Safe to run again: files already imported are skipped, so an interrupted import carries on
    where it stopped. Exits 0 when every file was imported, 1 when some were refused, 2 when
    nothing could start (a bad manifest imports nothing).
    """
    from archive.cli import _ready_services, emit

    if manifest is not None and (alias or age_band):
        raise click.UsageError("give either --manifest, or --participant with --age-band, not both")
    svc = _ready_services(ctx)
    svc.storage.check()
    processing = _processing(svc, wait)
    with svc.session() as db:
        try:
            plan = plan_import(db, folder, session_code, manifest, alias, AgeBand(age_band) if age_band else None)
        except ManifestError as exc:
            click.echo(f"chorus: the manifest cannot be used, so nothing was imported:\n{exc}", err=True)
            sys.exit(2)
        except ImportSetupError as exc:
            raise click.UsageError(str(exc)) from None
    with _progress(len(plan.files), quiet) as bar:

        def advance(outcome) -> None:
            bar.set_postfix_str(outcome.file[-40:], refresh=False)
            bar.update()

        summary = run_import(svc, plan, processing, on_file=advance)
    emit(summary.as_dict(), as_json, "\n".join(summary_lines(summary)))
    sys.exit(_exit_code(summary))
