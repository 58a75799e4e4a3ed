"""Choose the speech-to-text backend: faster-whisper (default) or openai-whisper.

``make_transcriber(settings)`` is what the pipeline and ``chorus transcribe`` both call, so a
setting changes both the same way. The model is named by ``whisper_model``:

* faster-whisper: a registered model (``base``, ``tiny.en``; see ``media.whisper_models``).
* openai-whisper: a registered model, converted once into an openai-whisper checkpoint under
  ``<cache_dir>/openai-whisper/`` (``media.convert``), or the path of a ``.pt`` checkpoint the
  user already has.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from media import whisper_models
from media.transcribe import Transcriber, load_transcriber

FASTER_WHISPER = "faster-whisper"
OPENAI_WHISPER = "openai-whisper"
BACKENDS = (FASTER_WHISPER, OPENAI_WHISPER)
MODELS_FOLDER = "models"


def cache_dir_for(settings: Any) -> Path:
    """Where joined models and converted checkpoints live: the same folder the pipeline uses."""
    return Path(settings.data_dir) / MODELS_FOLDER


def backend_of(settings: Any) -> str:
    return settings.whisper_backend


def make_transcriber(
    settings_or_name: Any,
    backend: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Transcriber:
    """A ready transcriber for a settings object or a model name.

    With settings, ``backend`` and ``cache_dir`` default to ``settings.whisper_backend`` and
    ``<data_dir>/models``; with a name they default to faster-whisper and are required,
    respectively. ``options`` go to the backend's constructor (``cpu_threads``, ``beam_size``...).
    """
    if isinstance(settings_or_name, (str, os.PathLike)):
        name = os.fspath(settings_or_name)
        backend = backend or FASTER_WHISPER
    else:
        name = settings_or_name.whisper_model
        backend = backend or backend_of(settings_or_name)
        cache_dir = cache_dir if cache_dir is not None else cache_dir_for(settings_or_name)
    if cache_dir is None:
        raise TypeError("make_transcriber needs cache_dir when given a model name")
    if backend == FASTER_WHISPER:
        return load_transcriber(name, cache_dir=cache_dir, **options)
    if backend == OPENAI_WHISPER:
        return _openai_transcriber(name, Path(cache_dir), **options)
    raise ValueError(f"unknown transcription backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def openai_checkpoint(name: str, cache_dir: str | os.PathLike[str]) -> Path:
    """The checkpoint file the openai-whisper backend loads for ``name``, converting on first use."""
    from media import convert

    if name in whisper_models.REGISTRY:
        return convert.ensure_checkpoint(name, cache_dir)
    path = Path(name).expanduser()
    if path.is_file():
        return path
    known = ", ".join(sorted(whisper_models.REGISTRY))
    raise whisper_models.ModelUnavailable(
        f"{name!r} is neither a registered Whisper model ({known}) nor an openai-whisper checkpoint file"
    )


def _openai_transcriber(name: str, cache_dir: Path, **options: Any) -> Transcriber:
    from media.openai_backend import OpenAIWhisperTranscriber, require_openai_whisper

    require_openai_whisper()  # before converting: a clear install hint beats a torch ImportError
    return OpenAIWhisperTranscriber(openai_checkpoint(name, cache_dir), **options)
