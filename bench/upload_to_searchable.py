"""Seconds from "we've got it" to the item turning up in search, on the path a real upload takes.

    python -m bench.upload_to_searchable                   # 5 photos, 3 voice notes; JSON last
    python -m bench.upload_to_searchable --photos 3 --voice-notes 1

Set up like ``chorus serve`` with its defaults: SQLite database, local media, the SQLite huey
queue and its embedded consumer (two worker threads) in this process. Each upload goes through
``accept_upload`` and is queued with ``process_artefact_job`` exactly as the share page does;
the clock starts when that returns (the moment the participant sees "Thank you! We've got it")
and stops at the first ``search.query.search`` that returns the item to a facilitator in the
team context, polled every 10 ms.

* **Photo with a story**: a 12-megapixel phone JPEG (see ``bench/ingest_photos.py``) with a
  title and a story holding a word no other item has; the search is for that word.
  Target: under 2 s.
* **60 s voice note**: ``tests/data/jfk.flac`` looped to 60 s and encoded as AAC in M4A, as a
  phone records it; the search is for "Americans", a word only the transcript holds, so the
  hit proves transcription ran. Whisper ``base`` (the default) on the CPU.

Before the clock runs, the worker is left idle for a few seconds, as it is between real
uploads: an idle SQLite huey worker polls at most once a second, and that wait is part of what
a participant gets. One uncounted upload of each kind goes first, so model loading at process
start is reported separately rather than mixed into the figures. The Whisper weights are
assembled from their packages once per data folder before anything is timed; that one-off cost
is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from archive import schema  # noqa: E402
from archive.accounts import create_user, grant_role  # noqa: E402
from archive.consent import Context  # noqa: E402
from archive.consent_records import ConsentChoice, record_consent  # noqa: E402
from archive.models import (  # noqa: E402
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentLevel,
    Participant,
    PipelineStep,
    PlaceType,
    Role,
)
from archive.principal import SYSTEM, Principal, participant_principal, staff_principal  # noqa: E402
from archive.programmes import create_programme, create_session, join_session  # noqa: E402
from archive.services import Services  # noqa: E402
from archive.settings import load_settings  # noqa: E402
from bench.ingest_photos import make_photo  # noqa: E402
from ingest.accept import Submission, accept_upload  # noqa: E402
from ingest.jobs import bind_services, process_artefact_job  # noqa: E402
from ingest.queue import start_embedded_consumer  # noqa: E402
from search.query import search  # noqa: E402

JFK = ROOT / "tests" / "data" / "jfk.flac"
VOICE_SECONDS = 60
PHOTO_TARGET_S = 2.0
IDLE_BEFORE_UPLOAD_S = 3.0
POLL_S = 0.01
TIMEOUT_S = 600.0
TRANSCRIPT_WORD = "Americans"
PHOTO_WORDS = ("lamppost", "pigeons", "puddle", "skatepark", "allotment", "launderette", "footbridge", "bandstand")


# --- material ----------------------------------------------------------------------------------


def make_voice_note(path: Path) -> Path:
    """jfk.flac looped to a minute of speech, as the AAC-in-M4A a phone's recorder app writes."""
    from imageio_ffmpeg import get_ffmpeg_exe

    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(JFK), "-t", str(VOICE_SECONDS),
         "-ac", "1", "-ar", "44100", "-c:a", "aac", "-b:a", "64k", str(path)],
        check=True,
    )
    return path


@dataclass
class World:
    services: Services
    participant_id: object
    facilitator: Principal
    uploads: int = 0


def make_world(data_dir: Path) -> World:
    """A programme, a session, a consenting participant and a facilitator, on the embedded defaults."""
    services = Services(load_settings(data_dir=data_dir))
    schema.upgrade(services.engine)
    with services.session() as db:
        programme = create_programme(db, SYSTEM, "bench", "Benchmark")
        session = create_session(db, SYSTEM, programme, "Bench", PlaceType.OTHER, "BENCH")
        participant = join_session(db, session, "Bench Fox", AgeBand.AGE_16_19)
        record_consent(db, SYSTEM, participant, ConsentChoice(level=ConsentLevel.TEAM))
        user = create_user(db, SYSTEM, "bench@example.org", "Bench", "a long enough bench password")
        grant_role(db, SYSTEM, user, programme, Role.FACILITATOR)
        db.commit()
        db.refresh(user)
        return World(services, participant.id, staff_principal(user))


# --- one upload --------------------------------------------------------------------------------


@dataclass
class Trial:
    kind: str
    seconds_to_hit: float
    queue_wait_s: float  # acknowledgement to a worker starting the pipeline
    steps_done_s: dict[str, float]  # acknowledgement to each step's finish


def upload(world: World, kind: ArtefactKind, path: Path, title: str = "", story: str = ""
           ) -> tuple[object, float, datetime]:
    """Accept and queue as the share page does; returns the artefact id and when it was acknowledged."""
    world.uploads += 1
    services = world.services
    with services.session() as db:
        participant = db.get(Participant, world.participant_id)
        submission = Submission(kind=kind, title=title, story=story, upload_id=f"bench-{world.uploads:08d}",
                                original_name=path.name)
        actor = participant_principal(participant)
        artefact, _ = accept_upload(db, services.storage, actor, participant, submission, path)
        process_artefact_job(str(artefact.id))
    return artefact.id, time.perf_counter(), datetime.now(timezone.utc)


def _status(services: Services, artefact_id) -> ArtefactStatus:
    with services.engine.connect() as conn:
        return conn.scalar(select(Artefact.status).where(Artefact.id == artefact_id))


def _found(world: World, artefact_id, word: str) -> bool:
    result = search(world.services.settings.index_dir, world.facilitator, Context.TEAM, word)
    return any(hit.id == str(artefact_id) for hit in result.hits)


def _wait_until_settled(services: Services, artefact_id) -> None:
    # The hit comes a moment before the job finishes; the next trial (or stopping the consumer)
    # must not overlap with it, or the figures would measure two uploads at once.
    while _status(services, artefact_id) == ArtefactStatus.PROCESSING:
        time.sleep(POLL_S)


def _step_times(services: Services, artefact_id, acknowledged: datetime) -> dict[str, float]:
    with services.session() as db:
        steps = db.scalars(select(PipelineStep).where(PipelineStep.artefact_id == artefact_id)
                           .order_by(PipelineStep.position)).all()
        return {s.step: round((s.updated_at - acknowledged).total_seconds(), 3) for s in steps}


def time_to_hit(world: World, kind: ArtefactKind, path: Path, word: str, title: str = "", story: str = "") -> Trial:
    time.sleep(IDLE_BEFORE_UPLOAD_S)
    artefact_id, acknowledged, acknowledged_at = upload(world, kind, path, title, story)
    picked_up = None
    while time.perf_counter() - acknowledged < TIMEOUT_S:
        if picked_up is None and _status(world.services, artefact_id) != ArtefactStatus.RECEIVED:
            picked_up = time.perf_counter() - acknowledged
        if _found(world, artefact_id, word):
            elapsed = time.perf_counter() - acknowledged
            _wait_until_settled(world.services, artefact_id)
            steps = _step_times(world.services, artefact_id, acknowledged_at)
            return Trial(kind.value, elapsed, picked_up if picked_up is not None else elapsed, steps)
        if _status(world.services, artefact_id) == ArtefactStatus.FAILED:
            raise RuntimeError(f"the {kind.value} failed in the pipeline; see its pipeline steps")
        time.sleep(POLL_S)
    raise TimeoutError(f"the {kind.value} was not searchable after {TIMEOUT_S:.0f} s")


# --- the runs ----------------------------------------------------------------------------------


def photo_trial(world: World, photo: Path, n: int) -> Trial:
    word = PHOTO_WORDS[n % len(PHOTO_WORDS)] + f"x{n}"
    story = f"This is the {word} on our way to school. It floods every time it rains and we get wet feet."
    return time_to_hit(world, ArtefactKind.PHOTO, photo, word, title="On the way to school", story=story)


def voice_trial(world: World, note: Path) -> Trial:
    return time_to_hit(world, ArtefactKind.VOICE_NOTE, note, TRANSCRIPT_WORD, title="Voice note")


def _prepare_whisper(services: Services) -> float:
    from media.whisper_models import ensure_model

    start = time.perf_counter()
    ensure_model(services.settings.whisper_model, services.settings.data_dir / "models")
    return time.perf_counter() - start


def _describe(trial: Trial) -> str:
    steps = ", ".join(f"{name} {at:.2f}" for name, at in trial.steps_done_s.items())
    return f"{trial.seconds_to_hit:6.2f} s  (worker started at {trial.queue_wait_s:.2f} s; steps done at: {steps})"


def _stats(trials: list[Trial]) -> dict:
    times = [t.seconds_to_hit for t in trials]
    waits = [t.queue_wait_s for t in trials]
    return {"runs": len(times), "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
            "min_s": round(min(times), 3), "median_queue_wait_s": round(statistics.median(waits), 3)}


def run(photos: int, voice_notes: int, work: Path) -> dict:
    world = make_world(work / "data")
    bind_services(world.services)
    whisper_setup = _prepare_whisper(world.services)
    photo = make_photo(work / "IMG_0001.jpg", seed=1)
    note = make_voice_note(work / "voice-note.m4a")
    stop = start_embedded_consumer(world.services.huey)
    try:
        first_photo = photo_trial(world, photo, 0)
        measured_photos = [photo_trial(world, photo, n) for n in range(1, photos + 1)]
        first_voice = voice_trial(world, note) if voice_notes else None
        measured_voice = [voice_trial(world, note) for _ in range(voice_notes)]
    finally:
        stop()
    return {"whisper_setup_s": whisper_setup, "first_photo": first_photo, "photos": measured_photos,
            "first_voice": first_voice, "voice": measured_voice}


def report(results: dict) -> dict:
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the end (other work on the machine shows in these times)")
    print(f"Whisper weights assembled from their packages (once per data folder): {results['whisper_setup_s']:.1f} s")
    print(f"Photo with a story, first after start (loads the tagger's model): {_describe(results['first_photo'])}")
    for trial in results["photos"]:
        print(f"Photo with a story: {_describe(trial)}")
    photo = _stats(results["photos"])
    met = photo["max_s"] < PHOTO_TARGET_S
    print(f"Photo: median {photo['median_s']:.2f} s, worst {photo['max_s']:.2f} s "
          f"(target under {PHOTO_TARGET_S:.0f} s: {'met' if met else 'MISSED'})")
    figures = {"photo": {**photo, "target_s": PHOTO_TARGET_S, "target_met": met,
                         "first_after_start_s": round(results["first_photo"].seconds_to_hit, 3)},
               "whisper_setup_s": round(results["whisper_setup_s"], 2),
               "cpus": os.cpu_count(), "load_average_1m": round(load, 2)}
    if results["voice"]:
        print(f"60 s voice note, first after start: {_describe(results['first_voice'])}")
        for trial in results["voice"]:
            print(f"60 s voice note: {_describe(trial)}")
        voice = _stats(results["voice"])
        print(f"60 s voice note: median {voice['median_s']:.2f} s, worst {voice['max_s']:.2f} s")
        figures["voice_note_60s"] = {**voice, "first_after_start_s": round(results["first_voice"].seconds_to_hit, 3)}
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--voice-notes", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        figures = report(run(args.photos, args.voice_notes, Path(tmp)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
