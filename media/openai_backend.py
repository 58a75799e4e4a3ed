"""The openai-whisper (PyTorch) backend, for people who already run openai-whisper checkpoints.

Same ``Transcriber`` interface and the same no-speech policy as ``FasterWhisperTranscriber``:
Silero VAD (the copy bundled with faster-whisper) cuts non-speech before decoding, and a segment
Whisper rates as probably not speech with unlikely text is dropped. Decoding options match too
(beam 5, word timestamps, no conditioning on the previous text).

Two things openai-whisper would otherwise do are never allowed here:

* given a path, it runs an ``ffmpeg`` program on it: audio is decoded by ``media.audio``
  (PyAV, container checks) and handed over as a float32 array;
* ``whisper.load_model("base")`` downloads OpenAI's checkpoint: checkpoints are loaded from a
  file by ``load_checkpoint`` only, so no setting can make the worker fetch anything.

Needs ``torch`` and ``openai-whisper`` (the ``openai-whisper`` extra); imported lazily so the
rest of Chorus runs without them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from media import audio, whisper_models
from media.transcribe import (
    ProgressCallback,
    Segment,
    Transcriber,
    Transcript,
    Word,
    _default_threads,
    confidence_from_logprob,
    empty_transcript,
)

INSTALL_HINT = "pip install 'chorus-archive[openai-whisper]' (docs/transcription.md has a leaner CPU-only install)"


def require_openai_whisper() -> None:
    """Raise ``ModelUnavailable`` with the install command when torch or openai-whisper is missing."""
    try:
        import torch  # noqa: F401
        import whisper  # noqa: F401
    except ImportError as exc:
        raise whisper_models.ModelUnavailable(
            f"the openai-whisper backend needs torch and openai-whisper ({exc.name} is missing); install with {INSTALL_HINT}"
        ) from None


_models: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def load_checkpoint(path: str | os.PathLike[str]) -> Any:
    """A ``whisper.model.Whisper`` from a ``{"dims", "model_state_dict"}`` checkpoint file.

    ``weights_only`` loading: a checkpoint is data, and unpickling arbitrary objects from a file
    would run code. Alignment heads stored by ``media.convert`` are applied; other checkpoints
    keep openai-whisper's default (the last half of the decoder layers).
    """
    require_openai_whisper()
    import torch
    from whisper.model import ModelDimensions, Whisper

    path = Path(path)
    if not path.is_file():
        raise whisper_models.ModelUnavailable(f"no openai-whisper checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model = Whisper(ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
        if checkpoint.get("alignment_heads"):
            model.set_alignment_heads(checkpoint["alignment_heads"])
    except Exception as exc:  # torch raises many types for a bad file; all mean "cannot use it"
        raise whisper_models.ModelUnavailable(
            f"{path} is not a loadable openai-whisper checkpoint: {str(exc).splitlines()[0]}"
        ) from exc
    return model.eval()


def _cached_model(path: Path, cpu_threads: int) -> tuple[Any, threading.Lock]:
    """One loaded model per checkpoint file per process, with the lock that serialises its use.

    openai-whisper's decoder keeps its key/value cache in forward hooks installed on the shared
    model for the length of a call, so two threads decoding with one model would read each
    other's cache. A replaced checkpoint file (new mtime) is loaded afresh.
    """
    import torch

    if not path.is_file():
        raise whisper_models.ModelUnavailable(f"no openai-whisper checkpoint at {path}")
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _models_lock:
        # torch's thread pool is per process; the last backend created sets its size.
        torch.set_num_threads(cpu_threads)
        if key not in _models:
            _models[key] = (load_checkpoint(path), threading.Lock())
        return _models[key]


class OpenAIWhisperTranscriber(Transcriber):
    """openai-whisper on the CPU (float32), from a checkpoint file."""

    def __init__(
        self,
        checkpoint: str | os.PathLike[str],
        cpu_threads: int | None = None,
        *,
        beam_size: int = 5,
        vad_filter: bool = True,
        no_speech_threshold: float = 0.6,
        logprob_threshold: float = -0.5,
    ) -> None:
        require_openai_whisper()
        self.checkpoint = Path(checkpoint)
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.no_speech_threshold = no_speech_threshold
        self.logprob_threshold = logprob_threshold
        self.model, self._lock = _cached_model(self.checkpoint, cpu_threads or _default_threads())

    def transcribe(
        self,
        source: str | Path | np.ndarray,
        *,
        language: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Transcript:
        # openai-whisper reports no progress while it works: only the start and the end are known.
        _report(progress, 0.0)
        samples = audio.load_audio(source)
        duration = audio.duration_seconds(samples)
        speech, timeline = self._speech(samples)
        segments: list[Segment] = []
        if len(speech):
            with self._lock:
                raw_segments, detected, probability = self._decode(speech, language)
            segments = self._segments(raw_segments, timeline)
        _report(progress, 1.0)
        if not segments:
            return empty_transcript(duration, language)
        return Transcript(detected, probability, duration, segments, False)

    # --- steps --------------------------------------------------------------------------

    def _speech(self, samples: np.ndarray) -> tuple[np.ndarray, Any]:
        """The speech parts joined end to end, and the map back to the recording's times."""
        if not self.vad_filter or len(samples) == 0:
            return samples, None
        from faster_whisper.vad import (
            SpeechTimestampsMap,
            VadOptions,
            collect_chunks,
            get_speech_timestamps,
        )

        chunks = get_speech_timestamps(samples, VadOptions())
        if not chunks:
            return np.zeros(0, dtype=np.float32), None
        pieces, _ = collect_chunks(samples, chunks)
        return np.concatenate(pieces), SpeechTimestampsMap(chunks, audio.SAMPLE_RATE)

    def _decode(self, speech: np.ndarray, language: str | None) -> tuple[list[dict[str, Any]], str, float]:
        language, probability = self._language(speech, language)
        result = self.model.transcribe(
            speech,
            language=language,
            task="transcribe",
            beam_size=self.beam_size,
            best_of=self.beam_size,
            fp16=False,  # half precision is GPU-only in openai-whisper
            word_timestamps=True,
            # Feeding the previous text back in lets one misheard phrase repeat for minutes.
            condition_on_previous_text=False,
            verbose=None,  # no printing, no progress bar
        )
        return result["segments"], language, probability

    def _language(self, speech: np.ndarray, language: str | None) -> tuple[str, float]:
        """The requested language, "en" for English-only models, or the detected one and its probability."""
        if language is not None:
            return language, 1.0
        if not self.model.is_multilingual:
            return "en", 1.0
        import torch
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(speech), n_mels=self.model.dims.n_mels)
        with torch.no_grad():
            _, probs = self.model.detect_language(mel)
        best = max(probs, key=probs.get)
        return best, float(probs[best])

    def _segments(self, raw_segments: list[dict[str, Any]], timeline: Any) -> list[Segment]:
        kept = [raw for raw in raw_segments if self._is_speech(raw)]
        return [_segment(raw, timeline) for raw in kept]

    def _is_speech(self, raw: dict[str, Any]) -> bool:
        if not raw["text"].strip():
            return False
        return not (raw["no_speech_prob"] > self.no_speech_threshold and raw["avg_logprob"] < self.logprob_threshold)


def _report(progress: ProgressCallback | None, fraction: float) -> None:
    if progress is not None:
        progress(fraction)


def _segment(raw: dict[str, Any], timeline: Any) -> Segment:
    """A Chorus segment on the recording's own clock (VAD removed the gaps before decoding)."""
    words = [_word(w, timeline) for w in raw.get("words") or ()]
    if words:
        start, end = words[0].start, words[-1].end
    else:
        start, end = _restore(raw["start"], timeline), _restore(raw["end"], timeline, is_end=True)
    return Segment(start, end, raw["text"].strip(), confidence_from_logprob(float(raw["avg_logprob"])), words)


def _word(raw: dict[str, Any], timeline: Any) -> Word:
    # Both ends of a word are mapped through the chunk holding its middle, as faster-whisper
    # does, so a word never straddles a removed gap.
    start, end = float(raw["start"]), float(raw["end"])
    chunk = None if timeline is None else timeline.get_chunk_index((start + end) / 2)
    return Word(
        _restore(start, timeline, chunk=chunk),
        _restore(end, timeline, chunk=chunk),
        raw["word"].strip(),
        float(raw["probability"]),
    )


def _restore(time: float, timeline: Any, *, chunk: int | None = None, is_end: bool = False) -> float:
    if timeline is None:
        return float(time)
    return float(timeline.get_original_time(float(time), chunk, is_end=is_end))
