"""How many 12-megapixel phone photos a second Chorus takes in, against a plain Pillow pipeline.

    python -m bench.ingest_photos                 # 6 photos, 3 rounds; JSON summary last
    python -m bench.ingest_photos --photos 4 --rounds 2

Both pipelines run in this process, one photo at a time, on the same files, interleaved
round by round (the order turning, so neither always goes first) so that a busy machine slows
both alike. The headline pair runs before the face detector or the tagger is loaded, as on a
server without them; the figures with faces (against the plain pipeline timed again beside
them) and the full pipeline come after. Durability is counted on one more photo: ``fsync``
calls and commits, and how many of those commits waited for the disk.

* **Chorus**: what a photo costs from upload to ready-to-show, minus the text steps:
  ``accept_upload`` (sniff the bytes; one decode at the web image's scale, which proves the
  JPEG whole; strip EXIF/GPS without re-encoding; the web image and thumbnail from that same
  decode; the master and both derivatives stored in one batch with their SHA-256, the files'
  syncs side by side and then their folders'; one synced commit that records all three) and
  the pipeline's ``derivatives`` step (nothing left to make for a photo; it looks for faces,
  or flags the photo for identity review without the detector). The ``extract_text``,
  ``tag`` and ``index`` steps are skipped in the main figure because they read words, not
  pixels; their commits still happen. A second figure runs the full pipeline, as the queue does.
* **Plain Pillow**: ``Image.open`` with a full decode, ``ImageOps.exif_transpose``, save
  the master as a new JPEG (which is what drops the metadata), then a web image and a
  thumbnail each resized from the full image with LANCZOS, and a SHA-256 of the master.
  It writes files but no database rows, so it is the cheaper side on everything but pixels.

The photos are made once per run: 4000 x 3000 pixels of gradients, soft shapes and sensor-like
noise, saved at quality 92 like a phone camera, with EXIF that carries GPS and, for every
other photo, the "rotate 90°" orientation a phone held upright writes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image, ImageOps
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from archive import schema  # noqa: E402
from archive.consent_records import ConsentChoice, record_consent  # noqa: E402
from archive.models import AgeBand, ArtefactKind, ConsentLevel, Participant, PlaceType  # noqa: E402
from archive.principal import SYSTEM  # noqa: E402
from archive.programmes import create_programme, create_session, join_session  # noqa: E402
from archive.services import Services  # noqa: E402
from archive.settings import load_settings  # noqa: E402
from ingest.accept import Submission, accept_upload  # noqa: E402
from ingest.pipeline import StepSkipped, run_pipeline  # noqa: E402
from ingest.steps import STEP_FUNCTIONS, derivatives  # noqa: E402
from media import faces  # noqa: E402
from media.images import THUMB_LONG_SIDE, THUMB_QUALITY, WEB_LONG_SIDE, WEB_QUALITY  # noqa: E402

WIDTH, HEIGHT = 4000, 3000
CAMERA_QUALITY = 92
NAIVE_MASTER_QUALITY = 90
TARGET_RATIO = 3.0


# --- test photos -------------------------------------------------------------------------------


def _pixels(seed: int) -> np.ndarray:
    """Gradients, a few soft blobs and noise: compresses like a photo, unlike flat colour or pure noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    channels = []
    for c in range(3):
        base = 40 + 150 * (x / WIDTH) * rng.uniform(0.3, 1.0) + 60 * (y / HEIGHT) * rng.uniform(0.2, 1.0)
        for _ in range(6):
            cx, cy, r = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(150, 900)
            base += rng.uniform(-60, 60) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        base += 12 * np.sin(x / rng.uniform(15, 60)) * np.sin(y / rng.uniform(15, 60))
        base += rng.normal(0, 6, size=base.shape).astype(np.float32)
        channels.append(np.clip(base, 0, 255).astype(np.uint8))
    return np.stack(channels, axis=-1)


def _exif(seed: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "BenchPhone", "Model 12", "2025:03:14 15:30:00"
    exif[0x0112] = 6 if seed % 2 else 1  # Orientation: a phone held upright writes 6
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (53.0, 45.0, 45.45 + seed), "W", (3.0, 33.0, 33.33)
    return exif


def make_photo(path: Path, seed: int) -> Path:
    """A 12-megapixel JPEG with EXIF GPS, as a phone would save it."""
    Image.fromarray(_pixels(seed), "RGB").save(path, "JPEG", quality=CAMERA_QUALITY, exif=_exif(seed))
    return path


# --- the two pipelines -------------------------------------------------------------------------


def _not_measured(ctx) -> None:
    raise StepSkipped("not part of this benchmark")


IMAGE_STEPS = {"derivatives": derivatives, "extract_text": _not_measured, "tag": _not_measured, "index": _not_measured}


@contextmanager
def face_detector(installed: bool):
    """Run as a server with or without the face detector.

    The derivatives step also looks for faces when the detector is installed (the stored web
    image decoded at half scale, then the CenterFace model). The plain pipeline does no such
    thing, so the headline ratio is taken as a server without the detector runs: the step
    then flags every photo for the identity review instead. The figure with it is printed too.
    """
    if installed:
        yield
        return
    with mock.patch.object(faces, "available", return_value=False):
        yield


def _ingest_with_faces(archive: "Archive", photo: Path) -> tuple[float, float]:
    with face_detector(True):
        return archive.ingest(photo, IMAGE_STEPS)


def _ingest_without_faces(archive: "Archive", photo: Path) -> tuple[float, float]:
    with face_detector(False):
        return archive.ingest(photo, IMAGE_STEPS)


@dataclass
class Archive:
    services: Services
    participant_id: object
    uploads: int = 0

    def ingest(self, photo: Path, steps: dict) -> tuple[float, float]:
        """Upload and process one photo; returns (acceptance seconds, pipeline seconds)."""
        self.uploads += 1
        start = time.perf_counter()
        with self.services.session() as db:
            participant = db.get(Participant, self.participant_id)
            submission = Submission(kind=ArtefactKind.PHOTO, upload_id=f"bench-{self.uploads:08d}",
                                    original_name=photo.name)
            artefact, _ = accept_upload(db, self.services.storage, SYSTEM, participant, submission, photo)
        accepted = time.perf_counter()
        run_pipeline(self.services, artefact.id, steps)
        return accepted - start, time.perf_counter() - accepted


def make_archive(data_dir: Path) -> Archive:
    services = Services(load_settings(data_dir=data_dir, queue_url="memory://"))
    schema.upgrade(services.engine)
    with services.session() as db:
        programme = create_programme(db, SYSTEM, "bench", "Benchmark")
        session = create_session(db, SYSTEM, programme, "Bench", PlaceType.OTHER, "BENCH")
        participant = join_session(db, session, "Bench Fox", AgeBand.AGE_16_19)
        record_consent(db, SYSTEM, participant, ConsentChoice(level=ConsentLevel.TEAM))
        db.commit()
        return Archive(services, participant.id)


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    scale = min(1.0, long_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def naive(photo: Path, out: Path) -> str:
    """The straightforward Pillow pipeline; returns the master's SHA-256."""
    with Image.open(photo) as img:
        img.load()
        upright = ImageOps.exif_transpose(img)
    master = out / "master.jpg"
    upright.save(master, "JPEG", quality=NAIVE_MASTER_QUALITY)
    web = upright.resize(_fit(upright.size, WEB_LONG_SIDE), Image.Resampling.LANCZOS)
    web.save(out / "web.jpg", "JPEG", quality=WEB_QUALITY, optimize=True, progressive=True)
    thumb = upright.resize(_fit(upright.size, THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
    thumb.save(out / "thumb.jpg", "JPEG", quality=THUMB_QUALITY, optimize=True)
    return hashlib.sha256(master.read_bytes()).hexdigest()


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Timings:
    seconds: list[float]
    cpu_seconds: list[float]

    @property
    def per_second(self) -> float:
        return len(self.seconds) / sum(self.seconds)

    @property
    def per_cpu_second(self) -> float:
        return len(self.cpu_seconds) / sum(self.cpu_seconds)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000


class _Stopwatch:
    """Wall and CPU time of one run: the machine may be shared, and CPU time shows what is ours."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, func, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = func(*args)
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        return result

    def timings(self) -> Timings:
        return Timings(self.wall, self.cpu)


def _alternate(rounds: int, photos: list[Path], runs: list) -> None:
    """Each run on each photo, round after round, in a turning order: none always goes first."""
    for round_number in range(rounds):
        for index, photo in enumerate(photos):
            turn = (round_number + index) % len(runs)
            for run in runs[turn:] + runs[:turn]:
                run(photo)


def measure(photos: list[Path], rounds: int, work: Path) -> dict[str, Timings]:
    archive = make_archive(work / "data")
    out = work / "naive"
    out.mkdir()
    ours, plain, with_faces, plain_again, full = (_Stopwatch() for _ in range(5))
    accept: list[float] = []
    # The headline first, as a server without the face detector runs: nothing else loaded yet.
    # (The detector's and the tagger's thread pools keep spinning briefly after each use, which
    # would charge whichever pipeline runs next.) One of each first, uncounted: imports,
    # database connections and Pillow's codecs warm up.
    _ingest_without_faces(archive, photos[0])
    naive(photos[0], out)
    _alternate(rounds, photos, [lambda photo: accept.append(ours.time(_ingest_without_faces, archive, photo)[0]),
                                lambda photo: plain.time(naive, photo, out)])
    # Then with the detector, against the plain pipeline again, and the full pipeline.
    _ingest_with_faces(archive, photos[0])
    archive.ingest(photos[0], STEP_FUNCTIONS)
    _alternate(rounds, photos, [lambda photo: with_faces.time(_ingest_with_faces, archive, photo),
                                lambda photo: plain_again.time(naive, photo, out)])
    for photo in photos:
        full.time(archive.ingest, photo, STEP_FUNCTIONS)
    return {"ours": ours.timings(), "naive": plain.timings(), "faces": with_faces.timings(),
            "naive_with_faces": plain_again.timings(), "full": full.timings(), "accept": Timings(accept, accept)}


def count_durability(archive: Archive, photo: Path) -> dict[str, int]:
    """fsync calls and commits for one photo through the main figure's path, and how many commits were synced.

    The archive takes one photo first, uncounted: the very first also creates the ``artefacts`` folder.
    """
    _ingest_without_faces(archive, photo)
    fsyncs, levels = [], []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    def record(conn) -> None:
        levels.append(conn.connection.dbapi_connection.execute("PRAGMA synchronous").fetchone()[0])

    event.listen(archive.services.engine, "commit", record)
    try:
        with mock.patch.object(os, "fsync", counting_fsync):
            _ingest_without_faces(archive, photo)
    finally:
        event.remove(archive.services.engine, "commit", record)
    return {"fsyncs": len(fsyncs), "commits": len(levels), "synced_commits": sum(level >= 2 for level in levels)}


def report(results: dict[str, Timings], photos: list[Path], durability: dict[str, int]) -> dict:
    ours, naive_t, with_faces, full = results["ours"], results["naive"], results["faces"], results["full"]
    ratio = ours.per_second / naive_t.per_second
    cpu_ratio = ours.per_cpu_second / naive_t.per_cpu_second
    faces_ratio = with_faces.per_second / results["naive_with_faces"].per_second
    faces_cpu_ratio = with_faces.per_cpu_second / results["naive_with_faces"].per_cpu_second
    mean_mb = sum(p.stat().st_size for p in photos) / len(photos) / 1e6
    load = os.getloadavg()[0]
    print(f"{len(photos)} photos of {WIDTH} x {HEIGHT} ({WIDTH * HEIGHT / 1e6:.0f} MP), "
          f"{mean_mb:.1f} MB each on average, {len(ours.seconds)} runs of each pipeline")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the end (other work on the machine slows both sides)")
    print(f"Chorus (accept + derivatives, no face detector): {ours.per_second:6.2f} photos/s  median {ours.median_ms:5.0f} ms"
          f"  (accepting alone: median {results['accept'].median_ms:.0f} ms)")
    print(f"Plain Pillow pipeline:                           {naive_t.per_second:6.2f} photos/s  median {naive_t.median_ms:5.0f} ms")
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"Ratio: {ratio:.2f}x wall clock, {cpu_ratio:.2f}x CPU time (target {TARGET_RATIO:.0f}x: {verdict})")
    print(f"Chorus with face detection in the derivatives step: {with_faces.per_second:.2f} photos/s  "
          f"median {with_faces.median_ms:.0f} ms; {faces_ratio:.2f}x wall clock, {faces_cpu_ratio:.2f}x CPU time")
    print(f"Chorus, full pipeline (faces, OCR, tag and index too): {full.per_second:.2f} photos/s  median {full.median_ms:.0f} ms")
    print(f"Durability per photo (main figure): {durability['fsyncs']} fsync calls, {durability['commits']} commits "
          f"of which {durability['synced_commits']} waited for the disk")
    return {
        "cpus": os.cpu_count(), "load_average_1m": round(load, 2),
        "photos": len(photos), "runs": len(ours.seconds), "megapixels": WIDTH * HEIGHT / 1e6,
        "mean_file_mb": round(mean_mb, 2),
        "chorus_photos_per_s": round(ours.per_second, 3), "chorus_median_ms": round(ours.median_ms, 1),
        "chorus_accept_median_ms": round(results["accept"].median_ms, 1),
        "naive_photos_per_s": round(naive_t.per_second, 3), "naive_median_ms": round(naive_t.median_ms, 1),
        "ratio": round(ratio, 2), "cpu_ratio": round(cpu_ratio, 2),
        "target_ratio": TARGET_RATIO, "target_met": ratio >= TARGET_RATIO,
        "chorus_with_faces_photos_per_s": round(with_faces.per_second, 3),
        "chorus_with_faces_median_ms": round(with_faces.median_ms, 1),
        "with_faces_ratio": round(faces_ratio, 2), "with_faces_cpu_ratio": round(faces_cpu_ratio, 2),
        "chorus_full_pipeline_photos_per_s": round(full.per_second, 3),
        "chorus_full_pipeline_median_ms": round(full.median_ms, 1),
        "fsyncs_per_photo": durability["fsyncs"], "commits_per_photo": durability["commits"],
        "synced_commits_per_photo": durability["synced_commits"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6, help="how many different photos to make")
    parser.add_argument("--rounds", type=int, default=3, help="how many times each photo goes through each pipeline")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        work = Path(tmp)
        made = time.perf_counter()
        photos = [make_photo(work / f"IMG_{seed:04d}.jpg", seed) for seed in range(args.photos)]
        print(f"made {len(photos)} test photos in {time.perf_counter() - made:.1f} s")
        results = measure(photos, args.rounds, work)
        figures = report(results, photos, count_durability(make_archive(work / "counted"), photos[0]))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
