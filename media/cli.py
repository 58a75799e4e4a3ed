"""``chorus models`` and ``chorus transcribe``: Whisper models and transcription from the shell.

Registered on the ``chorus`` group by ``archive.cli`` (``main.add_command(models)``,
``main.add_command(transcribe)``). ``archive.cli`` imports this module to do that, so this module
imports ``archive.cli`` only inside the commands: a module-level import would be circular.

``chorus transcribe`` runs exactly what the pipeline runs for an upload (``media.av.probe``, then
``media.av.extract_audio_16k`` in the ffmpeg sandbox, then ``media.backends.make_transcriber``
with the same settings and model folder) and stores nothing: the 16 kHz audio is written to a
temporary folder that is removed afterwards.
"""

from __future__ import annotations

import os
import sys
import tempfile
from functools import wraps
from importlib import metadata
from pathlib import Path
from typing import Any

import click

from media.backends import BACKENDS, backend_of, cache_dir_for, make_transcriber

FORMATS = ("txt", "vtt", "json")

# The same flag as archive.cli.json_option; defined here because that module imports this one.
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _friendly(func):
    """``archive.cli.friendly_errors``, looked up when the command runs (see the module docstring)."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        from archive.cli import friendly_errors

        return friendly_errors(func)(*args, **kwargs)

    return wrapper


def _emit(data: Any, as_json: bool, text: str) -> None:
    from archive.cli import emit

    emit(data, as_json, text)


def _settings(ctx: click.Context) -> Any:
    """The settings of the running ``chorus`` (``ctx.obj`` when it holds services) or freshly loaded."""
    if ctx.obj is not None and hasattr(ctx.obj, "settings"):
        return ctx.obj.settings
    from archive.settings import load_settings

    return load_settings()


def _model_errors() -> tuple[type[Exception], ...]:
    from media.convert import ConversionError
    from media.whisper_models import ModelChecksumError, ModelUnavailable

    return (ModelUnavailable, ModelChecksumError, ConversionError)


# --- chorus models ------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.option("--verify", is_flag=True, help="Hash every model file in full instead of the quick checks.")
@json_option
@click.pass_context
def models(ctx, verify, as_json):
    """Whisper models: list them with their checks (the default), or convert one for openai-whisper."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(models_list, verify=verify, as_json=as_json)


@models.command("list")
@click.option("--verify", is_flag=True, help="Hash every model file in full instead of the quick checks.")
@json_option
@click.pass_context
@_friendly
def models_list(ctx, verify, as_json):
    """List the known models, whether they are installed and whether their checksums hold.

    Exits 1 when an installed model fails its checks or the configured model is not installed.
    """
    from media import whisper_models

    settings = _settings(ctx)
    cache_dir = cache_dir_for(settings)
    rows = [_model_row(status, settings, cache_dir) for status in whisper_models.list_models(cache_dir, verify=verify)]
    report = {"backend": backend_of(settings), "backends": _backend_versions(), "models": rows}
    _emit(report, as_json, _models_text(report))
    failed = [row["name"] for row in rows if row["check"] == "failed"]
    missing = [row["name"] for row in rows if row["configured"] and not row["installed"]]
    for name in missing:
        click.echo(f"chorus: the configured model {name!r} is not installed", err=True)
    if failed or missing:
        sys.exit(1)


def _check(status: Any) -> str:
    from media import whisper_models

    if not status.installed:
        return "not installed"
    if status.verified:
        return "ok"
    # list_models reports an installed split model that was never joined with no folder yet.
    unjoined = whisper_models.get_spec(status.name).layout == "split" and status.path is None
    return "not assembled" if unjoined else "failed"


def _model_row(status: Any, settings: Any, cache_dir: Path) -> dict[str, Any]:
    from media import convert

    converted = convert.checkpoint_path(status.name, cache_dir)
    return {
        "name": status.name,
        "configured": status.name == settings.whisper_model,
        "installed": status.installed,
        "verified": status.verified,
        "check": _check(status),
        "problem": status.problem,
        "path": None if status.path is None else str(status.path),
        "size_bytes": status.size_bytes,
        "languages": len(status.languages),
        "openai_whisper_checkpoint": str(converted) if converted.is_file() else None,
    }


def _backend_versions() -> dict[str, str | None]:
    versions = {}
    for backend in BACKENDS:
        try:
            versions[backend] = metadata.version(backend)
        except metadata.PackageNotFoundError:
            versions[backend] = None
    return versions


def _models_text(report: dict[str, Any]) -> str:
    others = ", ".join(f"{name} {version or 'not installed'}" for name, version in report["backends"].items())
    lines = [f"backend: {report['backend']} ({others})", ""]
    lines.append(f"{'model':<10}{'check':<15}{'size':>10}  {'languages':<10}folder")
    for row in report["models"]:
        name = row["name"] + (" *" if row["configured"] else "")
        size = f"{row['size_bytes'] / 1e6:.1f} MB"
        lines.append(f"{name:<10}{row['check']:<15}{size:>10}  {row['languages']:<10}{row['path'] or '-'}")
    lines += [f"  {row['name']}: {row['problem']}" for row in report["models"] if row["problem"]]
    lines.append("* the configured model (whisper_model)")
    return "\n".join(lines)


@models.command("convert")
@click.argument("name")
@click.argument("output", required=False, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@json_option
@click.pass_context
@_friendly
def models_convert(ctx, name, output, as_json):
    """Write an openai-whisper checkpoint (.pt) of the installed model NAME.

    OUTPUT defaults to the file the openai-whisper backend loads for NAME, in the models folder.
    Load it with ``whisper.load_model(OUTPUT)``.
    """
    from media import convert

    settings = _settings(ctx)
    try:
        written = convert.convert_registered(name, cache_dir_for(settings), output)
    except _model_errors() as exc:
        raise click.ClickException(str(exc)) from None
    size = written.stat().st_size
    _emit({"model": name, "path": str(written), "size_bytes": size}, as_json,
          f"Wrote {written} (openai-whisper checkpoint of {name}, {size / 1e6:.1f} MB)")  # fmt: skip


# --- chorus transcribe --------------------------------------------------------------------


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", default=None, help="Registered model (default: the whisper_model setting); "
              "with openai-whisper also a .pt checkpoint file.")  # fmt: skip
@click.option("--backend", type=click.Choice(BACKENDS), default=None, help="Default: the whisper_backend setting.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="txt", show_default=True)
@click.option("--language", default=None, help="Language code, e.g. en; detected when not given.")
@click.pass_context
@_friendly
def transcribe(ctx, files, model, backend, fmt, language):
    """Transcribe audio or video FILES with the pipeline's code, without storing anything.

    json prints one object per file and line: {"file", "language", "duration", "text",
    "segments": [{"start", "end", "text", "confidence"}]}. Exits 1 if any file failed.
    """
    settings = _settings(ctx)
    try:
        transcriber = make_transcriber(model or settings.whisper_model, backend or backend_of(settings),
                                       cache_dir_for(settings))  # fmt: skip
    except _model_errors() as exc:
        raise click.ClickException(str(exc)) from None
    failures = sum(not _transcribe_one(path, transcriber, fmt, language, len(files) > 1) for path in files)
    if failures:
        sys.exit(1)


def _transcribe_one(path: Path, transcriber: Any, fmt: str, language: str | None, several: bool) -> bool:
    from media.audio import AudioDecodeError
    from media.ffmpeg import MediaError

    try:
        result = transcribe_file(path, transcriber, language=language)
    except (MediaError, AudioDecodeError) as exc:
        click.echo(f"chorus: {path}: {exc}", err=True)
        return False
    if result.flagged_no_speech:
        click.echo(f"chorus: {path}: no speech detected", err=True)
    click.echo(_render(result, fmt, os.fspath(path), several))
    return True


def transcribe_file(path: str | os.PathLike[str], transcriber: Any, *, language: str | None = None) -> Any:
    """Probe, extract 16 kHz audio and transcribe, as the pipeline's derivatives and transcribe steps do."""
    from media import av
    from media.transcribe import empty_transcript

    probed = av.probe(path)
    if not probed.has_audio:
        return empty_transcript(probed.duration, language)
    with tempfile.TemporaryDirectory(prefix="chorus-transcribe-") as work:
        wav = Path(work) / "audio16k.wav"
        av.extract_audio_16k(path, wav, probed)
        return transcriber.transcribe(wav, language=language)


def _render(result: Any, fmt: str, name: str, several: bool) -> str:
    from media.transcribe import to_json, to_webvtt

    if fmt == "json":
        return to_json(result, file=name, indent=None)  # one object per line for several files
    body = to_webvtt(result) if fmt == "vtt" else result.text
    return f"==> {name} <==\n{body}" if several else body
