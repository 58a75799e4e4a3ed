"""Reading the words written on drawings, posters and signs, with models that ship inside a package.

RapidOCR (Apache-2.0) runs PaddleOCR's PP-OCRv6 small text detector and recogniser
(Apache-2.0 weights) on onnxruntime's CPU provider. Both ONNX files are inside the ``rapidocr``
wheel; RapidOCR is handed their exact paths, so its download-on-first-use code is never
reached and nothing touches the network.

The files' SHA-256 are pinned here and checked before the engine loads, once per process: a
re-published package with other bytes raises :class:`OcrChecksumError` instead of being
trusted.

What comes back is a hint for people, never a decision. The filters below drop what the
recogniser "reads" into circles, rain streaks and stick figures on drawings that carry no
words; ``docs/image-signals.md`` has the measurements behind each threshold.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import numpy as np
from PIL import Image

from . import images
from .model_files import ModelFileChecksumError, ModelFileUnavailable, PackagedFile, PinnedPackages

__all__ = [
    "MAX_LONG_SIDE",
    "MIN_SCORE",
    "MODEL_FILES",
    "PINS",
    "OcrChecksumError",
    "OcrLine",
    "OcrUnavailable",
    "available",
    "in_reading_order",
    "install_hint",
    "keep_line",
    "read_text",
]

# Words big enough to matter on a drawing or poster are still 20+ pixels tall at 1280, and
# the detector's cost grows with the pixel count: at RapidOCR's own limit of 2000 a 12 MP
# photo took 2-3 times as long here (2.3-3.7 s of CPU against 1.3 s) for the same 20 lines.
MAX_LONG_SIDE = 1280
# Measured here: real words on the demo drawings and photos score 0.88-1.0; what the
# recogniser makes of rain streaks and stick figures scores 0.50-0.67.
MIN_SCORE = 0.75
# Below this many letters or digits a "line" is nearly always a circle read as O or 0.
MIN_CHARACTERS = 2
# Drawn circles and strokes come back as runs of one of these ("0000", "8888", "III").
_SHAPE_CHARACTERS = frozenset("0Oo8DQ1Il|")
_WORD = re.compile(r"\S+")


class OcrUnavailable(ModelFileUnavailable):
    """The package that holds the models is not installed (the message says what to install)."""


class OcrChecksumError(ModelFileChecksumError):
    """A model file's bytes differ from the SHA-256 pinned here."""


MODEL_FILES = {
    "Det": PackagedFile(
        "rapidocr",
        "rapidocr/models/PP-OCRv6_det_small.onnx",
        "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
        9_929_594,
    ),
    "Rec": PackagedFile(
        "rapidocr",
        "rapidocr/models/PP-OCRv6_rec_small.onnx",
        "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
        21_234_383,
    ),
}
PINS = (("rapidocr", "3.10.0"),)
_RUNTIME_MODULES = ("rapidocr", "onnxruntime", "cv2")


@dataclass(frozen=True)
class OcrLine:
    """One line of text; ``box`` is x, y, width, height in the original picture's upright pixels."""

    text: str
    score: float
    box: tuple[int, int, int, int]


def install_hint() -> str:
    return "pip install onnxruntime " + " ".join(f"{dist}=={version}" for dist, version in PINS)


_PACKAGES = PinnedPackages("text extraction", PINS, install_hint(), OcrUnavailable, OcrChecksumError)


# --- public API -------------------------------------------------------------------------


def available() -> bool:
    """True when RapidOCR, onnxruntime and the model files are installed with the pinned RECORD hashes.

    Cheap (no model bytes are read); the full SHA-256 check happens when the engine loads.
    """
    if any(util.find_spec(name) is None for name in _RUNTIME_MODULES):
        return False
    return _PACKAGES.installed(MODEL_FILES.values())


def read_text(image_path: str | os.PathLike[str], *, min_score: float = MIN_SCORE) -> list[OcrLine]:
    """The lines of text written in the picture, top to bottom, after dropping likely misreadings.

    The picture is opened through :func:`media.images.open_image` (allowed decoders and pixel
    cap), turned upright and scaled to :data:`MAX_LONG_SIDE`. Raises :class:`OcrUnavailable`
    or :class:`OcrChecksumError` when the models can't be used.
    """
    engine = _get_engine()
    pixels, full_size = _scaled_upright(Path(image_path), MAX_LONG_SIDE)
    # RapidOCR does not promise thread safety (it swaps objects on itself per call), and one
    # call already keeps every core busy, so worker threads take turns.
    with _run_lock:
        result = engine(pixels)
    if result.boxes is None or not result.txts:
        return []
    sx, sy = full_size[0] / pixels.shape[1], full_size[1] / pixels.shape[0]
    lines = []
    for quad, text, score in zip(result.boxes, result.txts, result.scores):
        cleaned = keep_line(text, float(score), min_score)
        if cleaned is not None:
            lines.append(OcrLine(cleaned, round(float(score), 3), _bounding_box(quad, sx, sy)))
    return in_reading_order(lines)


def in_reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Rows top to bottom, each left to right, with pieces of one split line joined.

    Hand-lettered words bob up and down, so a word whose box starts a little higher than the
    word before it must still follow it: a line joins a row when its middle is near the
    middle of the row's first box. Near means within 0.4 of the smaller height, so the lines
    of a page photographed at a slant, whose boxes overlap, stay apart.
    """
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=_middle):
        if rows and abs(_middle(line) - _middle(rows[-1][0])) <= 0.4 * min(line.box[3], rows[-1][0].box[3]):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in _join_pieces(sorted(row, key=lambda l: l.box[0]))]


def _middle(line: OcrLine) -> float:
    return line.box[1] + line.box[3] / 2


def _join_pieces(row: list[OcrLine]) -> list[OcrLine]:
    # Uneven letters make the detector cut one line into boxes that overlap a little at the
    # cut, and each box reads the shared letters again ("no bus to the p" + "park").
    # Side-by-side boxes that do not overlap are separate texts, like the columns of a
    # timetable, and stay apart.
    joined = [row[0]]
    for line in row[1:]:
        if _is_piece_of(joined[-1], line):
            joined[-1] = _joined(joined[-1], line)
        else:
            joined.append(line)
    return joined


def _is_piece_of(left: OcrLine, right: OcrLine) -> bool:
    left_end, right_end = left.box[0] + left.box[2], right.box[0] + right.box[2]
    overlap = left_end - right.box[0]
    return 0 < overlap < 0.5 * min(left.box[2], right.box[2]) and right_end > left_end


def _joined(left: OcrLine, right: OcrLine) -> OcrLine:
    longest = min(len(left.text), len(right.text))
    shared = max((k for k in range(1, longest + 1) if left.text.endswith(right.text[:k])), default=0)
    text = left.text + right.text[shared:] if shared else f"{left.text} {right.text}"
    x1, y1 = min(left.box[0], right.box[0]), min(left.box[1], right.box[1])
    x2 = max(left.box[0] + left.box[2], right.box[0] + right.box[2])
    y2 = max(left.box[1] + left.box[3], right.box[1] + right.box[3])
    return OcrLine(text, min(left.score, right.score), (x1, y1, x2 - x1, y2 - y1))


def keep_line(text: str, score: float, min_score: float = MIN_SCORE) -> str | None:
    """The line as it should be kept, or None when it is most likely a misreading of a drawing."""
    if score < min_score:
        return None
    words = [w for w in _WORD.findall(text) if not _has_foreign_letters(w)]
    cleaned = " ".join(words)
    characters = [c for c in cleaned if c.isalnum()]
    if len(characters) < MIN_CHARACTERS or _is_shape_run(characters):
        return None
    return cleaned


# --- filters ------------------------------------------------------------------------------


def _has_foreign_letters(word: str) -> bool:
    # The recogniser is multilingual, so a scribble can come back as a CJK or Cyrillic
    # character; in a UK programme those are misreadings far more often than writing.
    return any(c.isalpha() and not unicodedata.name(c, "").startswith("LATIN") for c in word)


def _is_shape_run(characters: list[str]) -> bool:
    return len(set(characters)) == 1 and characters[0] in _SHAPE_CHARACTERS


# --- the picture --------------------------------------------------------------------------


def _scaled_upright(path: Path, long_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """BGR pixels (RapidOCR's order) turned upright and scaled to fit ``long_side``; plus the full upright size."""
    upright, full_size = images.scaled_upright(path, long_side, resample=Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.ascontiguousarray(np.asarray(upright)[:, :, ::-1]), full_size


def _bounding_box(quad, sx: float, sy: float) -> tuple[int, int, int, int]:
    points = np.asarray(quad, dtype=np.float64)
    x1, y1 = points.min(axis=0)
    x2, y2 = points.max(axis=0)
    left, top = int(round(x1 * sx)), int(round(y1 * sy))
    return left, top, max(1, int(round(x2 * sx)) - left), max(1, int(round(y2 * sy)) - top)


# --- the engine ---------------------------------------------------------------------------


_lock = threading.Lock()
_run_lock = threading.Lock()
_engine = None


def _get_engine():
    """The process's RapidOCR engine, checked and loaded on first use (about a second)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = _load_engine()
    return _engine


def _load_engine():
    paths = {role: _verified_path(file) for role, file in MODEL_FILES.items()}
    from rapidocr import RapidOCR

    params = {f"{role}.model_path": str(path) for role, path in paths.items()}
    # keep_line decides what is kept; RapidOCR's own cut would drop lines before it sees them.
    params["Global.text_score"] = 0.0
    # The upside-down classifier turned tilted hand-lettered lines over and misread them
    # ("my house is cold" as "ploo sl sno d" in 3 of 15 test sheets, none wrong without it);
    # photos are turned upright from their EXIF orientation before they get here.
    params["Global.use_cls"] = False
    # "No text found" is an ordinary answer for a drawing, not a warning.
    params["Global.log_level"] = "error"
    return RapidOCR(params=params)


# --- checking the packaged files ----------------------------------------------------------


def _verified_path(file: PackagedFile) -> Path:
    # RapidOCR opens the files by path, so the bytes are hashed in full here (about 0.05 s for
    # both) rather than trusting the RECORD, which anyone replacing a file could rewrite.
    return _PACKAGES.verified_path(_PACKAGES.locate(file), file.sha256, what="OCR model")
