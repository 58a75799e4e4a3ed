"""faster-whisper against openai-whisper on the same audio and the same model, in one run.

    python -m bench.transcribe                  # base on both backends, figures, JSON summary last
    python -m bench.transcribe --model tiny.en --repeats 3

Recordings are built from ``tests/data/jfk.flac`` (public domain, 11 s), the demo programme's
synthesised voice notes and video sound track (``archive/demo/media``, exact words in
``content.json``) and ``bench/data/speech_sentences.ogg`` (40 different invented sentences
spoken by espeak-ng with eight voices, 211 s; words, voices and recipe in its ``.json``), whose
words are known:

* ``short``: jfk.flac itself (11 s);
* ``voice_note``: five copies of jfk.flac with 1.25 s of silence between them, exactly 60 s;
* ``varied_note``: exactly 60 s of six clips: jfk.flac and the demo clips, 0.85 s apart;
* ``long``: jfk.flac, the four demo clips and the 40 sentences, each once, 1 s apart (262 s,
  714 words), where faster-whisper batches: no sentence comes twice;
* ``long_repeated``: eleven copies of jfk.flac, 1 s apart (131 s), the worst case below.

Why not one sentence repeated for the targets: it puts the same words two or three times into
every 30 s window. Sequential decoding then finds text that compresses better than Whisper's
guard against looping output allows (compression ratio above 2.4) and re-decodes every window
at rising temperatures up to 1.0, which samples, so the WER swings from run to run. The
batched decoder makes no such retries and drops words instead ("ask" in "Americans, ask not",
in later copies). A real recording does not repeat itself: the 60 s target is judged on
``varied_note`` and the 2-minute one on ``long``; the repeated recordings show the cost. Only
jfk.flac is a real voice; the synthesised ones are harder for Whisper (WER 0.15-0.2 on both
backends), which is fine for comparing two backends on the same model and the same words.

Same decoding on both backends: beam 5, best of 5, ``condition_on_previous_text=False``, word
timestamps, Silero VAD, the same segment filter, and the same temperature schedule. The last is
set per recording by faster-whisper's own switch (:func:`temperatures_for`): sequential
decoding (60 s and less) falls back through 0.0-1.0 in both libraries; batched decoding uses
the first temperature only, so openai-whisper is given 0.0 alone there too. Without that,
openai-whisper alone sampled on the long recording and its WER depended on the seed.

Each backend runs each recording in its own worker process (``--worker``), so its peak RSS is
its own: the model, the decoder and the audio, as a Chorus worker would hold them. Each worker
loads its model, warms up on 3 s of speech (openai-whisper compiles its word-timing code with
numba on first use), then times ``Transcriber.transcribe(path)``: decoding the file included.
The openai-whisper checkpoint is converted from the same CTranslate2 weights
(``media.convert``), so both backends run the same model; faster-whisper uses int8 as in
production, openai-whisper float32 (its only CPU mode).

Targets checked: on ``long``, faster-whisper at least 4x faster than openai-whisper with no
worse WER; ``varied_note`` under 10 s with the default model. WER is the word-level edit
distance to the reference over the reference length, after lower-casing and removing
punctuation; the substitutions, deletions and insertions behind it are printed (lost words
are deletions). ``WER norm`` is the same after Whisper's own English normaliser (from the
openai-whisper package: spelled-out numbers, British spellings, contractions and fillers such
as "um" made equal), to tell wrong words from differences of spelling. The machine's load
average and each worker's CPU time are printed: on a shared 2-core machine other jobs change
the wall times (not the WER) by 2x and more.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import statistics
import string
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from media import audio, backends, convert, whisper_models  # noqa: E402
from media.transcribe import FasterWhisperTranscriber  # noqa: E402

JFK = ROOT / "tests" / "data" / "jfk.flac"
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
BACKENDS = (backends.FASTER_WHISPER, backends.OPENAI_WHISPER)
DEMO = ROOT / "archive" / "demo"
SENTENCES = ROOT / "bench" / "data" / "speech_sentences"
# name -> (copies of jfk.flac, seconds of silence between copies)
RECORDINGS = {"short": (1, 0.0), "voice_note": (5, 1.25), "long_repeated": (11, 1.0)}
VARIED_CLIPS = ("voice-walk-to-school.ogg", "voice-rent-and-tea.ogg", "voice-nowhere-to-play.ogg",
                "video-bus-went-past.mp4", "voice-walk-to-school.ogg")  # fmt: skip
VARIED_GAP_SECONDS = 0.85
VARIED_SECONDS = 60.0
# ``long``: jfk.flac, the four different demo clips and the 40 synthesised sentences, each once.
LONG_CLIPS = ("voice-walk-to-school.ogg", "voice-rent-and-tea.ogg", "voice-nowhere-to-play.ogg",
              "video-bus-went-past.mp4")  # fmt: skip
LONG_GAP_SECONDS = 1.0
LONG_SPEEDUP_TARGET = 4.0
VOICE_NOTE_SECONDS_TARGET = 10.0
# Whisper's fallback schedule, the default of both libraries.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


# --- recordings and scoring -------------------------------------------------------------


def build_recordings(folder: Path) -> dict[str, tuple[Path, str, float]]:
    """name -> (16 kHz mono WAV, reference text, seconds)."""
    speech = audio.load_audio(JFK)
    made = {}
    for name, (copies, gap) in RECORDINGS.items():
        samples = _joined([speech] * copies, gap)
        made[name] = (write_wav(folder / f"{name}.wav", samples), " ".join([JFK_TEXT] * copies),
                      audio.duration_seconds(samples))  # fmt: skip
    samples, reference = varied_note(speech)
    made["varied_note"] = (write_wav(folder / "varied_note.wav", samples), reference, VARIED_SECONDS)
    samples, reference = long_mixed(speech)
    made["long"] = (write_wav(folder / "long.wav", samples), reference, audio.duration_seconds(samples))
    return made


def _joined(clips: Sequence[np.ndarray], gap: float) -> np.ndarray:
    silence = np.zeros(round(gap * audio.SAMPLE_RATE), np.float32)
    parts = [clip if i == 0 else np.concatenate([silence, clip]) for i, clip in enumerate(clips)]
    return np.concatenate(parts)


def varied_note(jfk: np.ndarray) -> tuple[np.ndarray, str]:
    """jfk.flac then the demo clips, padded with silence to exactly VARIED_SECONDS."""
    spoken = _demo_transcripts()
    clips = [jfk] + [audio.load_audio(DEMO / "media" / name) for name in VARIED_CLIPS]
    samples = _joined(clips, VARIED_GAP_SECONDS)
    total = round(VARIED_SECONDS * audio.SAMPLE_RATE)
    if len(samples) > total:
        raise ValueError(f"the varied clips last {audio.duration_seconds(samples):.2f} s, over {VARIED_SECONDS:g} s")
    samples = np.concatenate([samples, np.zeros(total - len(samples), np.float32)])
    return samples, " ".join([JFK_TEXT] + [spoken[f"media/{name}"] for name in VARIED_CLIPS])


def long_mixed(jfk: np.ndarray) -> tuple[np.ndarray, str]:
    """jfk.flac, the demo clips and the synthesised sentences, LONG_GAP_SECONDS apart."""
    spoken = _demo_transcripts()
    sentences = json.loads(SENTENCES.with_suffix(".json").read_text(encoding="utf-8"))["sentences"]
    clips = [jfk] + [audio.load_audio(DEMO / "media" / name) for name in LONG_CLIPS]
    words = [JFK_TEXT] + [spoken[f"media/{name}"] for name in LONG_CLIPS] + [s["text"] for s in sentences]
    clips.append(audio.load_audio(SENTENCES.with_suffix(".ogg")))
    return _joined(clips, LONG_GAP_SECONDS), " ".join(words)


def _demo_transcripts() -> dict[str, str]:
    return {item["media"]: item["transcript"] for item in _demo_artefacts() if item.get("transcript")}


def _demo_artefacts() -> list[dict[str, Any]]:
    return json.loads((DEMO / "content.json").read_text(encoding="utf-8"))["artefacts"]


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def words(text: str) -> list[str]:
    return text.lower().translate(str.maketrans("", "", string.punctuation)).split()


def whisper_words(text: str) -> list[str]:
    """Words after openai-whisper's English normaliser, the one its WER figures are computed with."""
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()(text).split()


def edits(ref: Sequence[str], hyp: Sequence[str]) -> dict[str, int]:
    """Substitutions, deletions and insertions of one cheapest alignment of ``hyp`` to ``ref``."""
    # Each cell: (cost, substitutions, deletions, insertions) of the best alignment so far.
    previous = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i, ref_word in enumerate(ref, start=1):
        current = [(i, 0, i, 0)]
        for j, hyp_word in enumerate(hyp, start=1):
            same = ref_word == hyp_word
            diagonal, up, left = previous[j - 1], previous[j], current[j - 1]
            current.append(min(
                (diagonal[0] + (not same), diagonal[1] + (not same), diagonal[2], diagonal[3]),
                (up[0] + 1, up[1], up[2] + 1, up[3]),
                (left[0] + 1, left[1], left[2], left[3] + 1),
            ))  # fmt: skip
        previous = current
    _, substitutions, deletions, insertions = previous[-1]
    return {"substitutions": substitutions, "deletions": deletions, "insertions": insertions}


def word_error_rate(reference: str, hypothesis: str, split: Callable[[str], list[str]] = words) -> float:
    ref = split(reference)
    return sum(edits(ref, split(hypothesis)).values()) / max(1, len(ref))


# --- the worker (one backend, one recording, its own process) ---------------------------


def temperatures_for(seconds: float) -> tuple[float, ...]:
    """The temperature schedule faster-whisper decodes a recording of this length with.

    Sequential faster-whisper, like openai-whisper, re-decodes a window at rising temperatures
    when its text compresses too well or scores too low. Its batched pipeline (recordings above
    ``batched_from_seconds``, VAD on) decodes every chunk once at the first temperature only
    (``generate_segment_batched`` passes ``temperatures[0]``, faster-whisper 1.2.1). openai-whisper
    is given the same schedule, so a batched comparison is not openai-whisper sampling at
    temperatures up to 1.0 against faster-whisper decoding once at 0.
    """
    defaults = inspect.signature(FasterWhisperTranscriber.__init__).parameters
    batched = defaults["vad_filter"].default and seconds > defaults["batched_from_seconds"].default
    return (TEMPERATURES[0],) if batched else TEMPERATURES


def _same_decoding(transcriber: Any, temperatures: tuple[float, ...]) -> None:
    """Give the openai-whisper model this temperature schedule; every other option already matches.

    ``OpenAIWhisperTranscriber`` takes no temperature option (production keeps openai-whisper's
    default schedule), so the benchmark narrows it on the worker's own model object.
    """
    model = transcriber.model
    decode = model.transcribe
    model.transcribe = lambda *args, **options: decode(*args, temperature=temperatures, **options)


def worker(backend: str, model: str, cache_dir: Path, path: Path, repeats: int, threads: int) -> dict[str, Any]:
    temperatures = temperatures_for(audio.duration_seconds(audio.load_audio(path)))
    if backend == backends.OPENAI_WHISPER:
        import torch

        # Temperature fallback samples; a fixed seed makes a run repeatable on the same machine.
        torch.manual_seed(0)
    started = time.perf_counter()
    transcriber = backends.make_transcriber(model, backend=backend, cache_dir=cache_dir, cpu_threads=threads)
    if backend == backends.OPENAI_WHISPER:
        _same_decoding(transcriber, temperatures)
    transcriber.transcribe(audio.load_audio(JFK)[: 3 * audio.SAMPLE_RATE])
    load_seconds = time.perf_counter() - started
    walls, cpus, text = [], [], ""
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        text = transcriber.transcribe(path).text
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)  # all the process's threads
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {"wall_s": statistics.median(walls), "walls_s": walls, "cpu_s": statistics.median(cpus),
            "load_s": load_seconds, "peak_rss_bytes": peak, "text": text, "temperatures": list(temperatures)}  # fmt: skip


def run_worker(backend: str, model: str, cache_dir: Path, path: Path, repeats: int, threads: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.transcribe", "--worker", str(path), "--backend", backend,
               "--model", model, "--cache-dir", str(cache_dir), "--repeats", str(repeats), "--threads", str(threads)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{backend} worker failed on {path.name}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the comparison ---------------------------------------------------------------------


def prepare_models(model: str, cache_dir: Path) -> None:
    """Join and convert before timing anything, so no worker pays for it."""
    whisper_models.ensure_model(model, cache_dir)
    convert.ensure_checkpoint(model, cache_dir)


def measure(model: str, repeats: int, threads: int, say: Callable[[str], None],
            only: Sequence[str] = ()) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        folder = Path(tmp)
        prepare_models(model, folder / "models")
        recordings = build_recordings(folder)
        results: dict[str, dict[str, Any]] = {}
        for name, (path, reference, seconds) in recordings.items():
            if only and name not in only:
                continue
            for backend in BACKENDS:
                say(f"  {backend:<15} {name:<11} {seconds:6.1f} s ...")
                got = run_worker(backend, model, folder / "models", path, repeats, threads)
                got.update(seconds=seconds, rtf=got["wall_s"] / seconds, wer=word_error_rate(reference, got["text"]),
                           wer_norm=word_error_rate(reference, got["text"], whisper_words),
                           edits=edits(words(reference), words(got["text"])))  # fmt: skip
                results.setdefault(name, {})[backend] = got
    return results


def summarise(results: dict[str, Any], model: str, threads: int) -> dict[str, Any]:
    fw, ow = backends.FASTER_WHISPER, backends.OPENAI_WHISPER
    figures: dict[str, Any] = {"model": model, "threads": threads, "load_average_1m": round(os.getloadavg()[0], 2)}
    for name, by_backend in results.items():
        figures[f"{name}_speedup"] = round(by_backend[ow]["wall_s"] / by_backend[fw]["wall_s"], 2)
        figures[f"{name}_cpu_ratio"] = round(by_backend[ow]["cpu_s"] / by_backend[fw]["cpu_s"], 2)
    if "long" in results:
        long = results["long"]
        figures["long_target_met"] = figures["long_speedup"] >= LONG_SPEEDUP_TARGET and long[fw]["wer"] <= long[ow]["wer"]
    if "varied_note" in results:
        varied = results["varied_note"]
        figures["voice_note_seconds"] = round(varied[fw]["wall_s"], 2)
        figures["voice_note_target_met"] = varied[fw]["wall_s"] < VOICE_NOTE_SECONDS_TARGET
    for name, by_backend in results.items():
        for backend, got in by_backend.items():
            figures[f"{name}_{backend.replace('-', '_')}"] = {
                "seconds": round(got["seconds"], 2), "wall_s": round(got["wall_s"], 2), "cpu_s": round(got["cpu_s"], 2),
                "rtf": round(got["rtf"], 3), "wer": round(got["wer"], 4), "wer_norm": round(got["wer_norm"], 4),
                **got["edits"], "peak_rss_mb": round(got["peak_rss_bytes"] / 2**20, 1),
                "load_s": round(got["load_s"], 2), "temperatures": got["temperatures"],
            }  # fmt: skip
    return figures


def report(results: dict[str, Any], figures: dict[str, Any], say: Callable[[str], None]) -> None:
    say(f"\nmodel {figures['model']}, {figures['threads']} threads, load average {figures['load_average_1m']}")
    say(f"{'recording':<13} {'backend':<15} {'audio s':>7} {'wall s':>7} {'CPU s':>7} {'RTF':>6} {'WER':>6} "
        f"{'S/D/I':>9} {'WER norm':>8} {'peak RSS':>9} {'load s':>7}  temperatures")  # fmt: skip
    for name, by_backend in results.items():
        for backend, got in by_backend.items():
            sdi = f"{got['edits']['substitutions']}/{got['edits']['deletions']}/{got['edits']['insertions']}"
            say(f"{name:<13} {backend:<15} {got['seconds']:7.1f} {got['wall_s']:7.2f} {got['cpu_s']:7.2f} "
                f"{got['rtf']:6.3f} {got['wer']:6.3f} {sdi:>9} {got['wer_norm']:8.3f} "
                f"{got['peak_rss_bytes'] / 2**20:6.0f} MB {got['load_s']:7.2f}  "
                f"{'-'.join(f'{t:g}' for t in got['temperatures'])}")  # fmt: skip
    verdict = {True: "met", False: "NOT met"}
    if "long_target_met" in figures:
        say(f"\nlong recording: faster-whisper {figures['long_speedup']:.2f}x faster than openai-whisper "
            f"({figures['long_cpu_ratio']:.2f}x in CPU time; target >= {LONG_SPEEDUP_TARGET:g}x at no worse WER: "
            f"{verdict[figures['long_target_met']]})")  # fmt: skip
    ratios = [f"{name}: {figures[f'{name}_speedup']:.2f}x" for name in results if name != "long"]
    if ratios:
        say("speed-up elsewhere: " + "; ".join(ratios))
    if "voice_note_target_met" in figures:
        say(f"60 s varied voice note on faster-whisper: {figures['voice_note_seconds']:.2f} s "
            f"(target < {VOICE_NOTE_SECONDS_TARGET:g} s: {verdict[figures['voice_note_target_met']]})")  # fmt: skip
    peak = max(got["peak_rss_bytes"] for got in (by[backends.FASTER_WHISPER] for by in results.values()))
    say(f"peak RSS of a faster-whisper worker: {peak / 2**20:.0f} MB")


def main(argv: Sequence[str] | None = None, say: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=whisper_models.DEFAULT_MODEL)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per worker; the median is reported")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=(*RECORDINGS, "varied_note", "long"), default=(),
                        help="run only these recordings")  # fmt: skip
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--backend", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        say(json.dumps(worker(args.backend, args.model, args.cache_dir, args.worker, args.repeats, args.threads)))
        return 0
    say(f"transcribing with {args.model} on both backends, one worker process each:")
    results = measure(args.model, args.repeats, args.threads, say, args.only)
    figures = summarise(results, args.model, args.threads)
    report(results, figures, say)
    say(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
