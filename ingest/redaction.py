"""Making the redacted copies of an item after a facilitator changes its redactions (or it is reviewed).

Copies made (see ``archive.curation.shown_media`` for who gets which):
- ``faceless_<picture>`` for photos and videos: detected faces and drawn boxes blurred. When the
  face detector is not installed, the whole picture is obscured: an unblurred face must never be
  the fallback.
- ``redacted_<picture>``: drawn boxes only, for items whose owner agreed to their face being shown.
- ``redacted_proxy``: the playable copy with marked stretches bleeped (and, for video, boxes blurred).
A copy that is no longer needed (its redactions were removed) is deleted, row and object.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from archive.curation.redaction import redactions_of
from archive.models import Artefact, ArtefactKind, ArtefactStatus
from archive.services import Services
from media import faces, images
from media.redact import Box, blur_picture, redact_recording

from .pipeline import StepContext

PEOPLE = (ArtefactKind.PHOTO, ArtefactKind.VIDEO_DIARY)
WHOLE_PICTURE = Box(0.0, 0.0, 1.0, 1.0)
FACE_MARGIN = 0.25


def _face_boxes(path: Path) -> list[Box]:
    """Detected faces, each grown by a quarter on every side: the detector's box stops at the
    hairline and chin, and hair and ears identify a child too."""
    if not faces.available():
        return [WHOLE_PICTURE]
    with images.open_image(path) as img:
        width, height = img.size
    boxes = []
    for face in faces.detect_faces(path):
        left, top = max(0, face.x - face.w * FACE_MARGIN), max(0, face.y - face.h * FACE_MARGIN)
        right = min(width, face.x + face.w * (1 + FACE_MARGIN))
        bottom = min(height, face.y + face.h * (1 + FACE_MARGIN))
        boxes.append(Box(left / width, top / height, (right - left) / width, (bottom - top) / height))
    return boxes


def _folder(kind: str) -> str:
    # One folder per copy, so a copy no longer needed can be erased on its own (storage erases folders).
    return f"redacted/{kind}/"


def _store(ctx: StepContext, kind: str, path: Path, media_type: str, width=None, height=None) -> None:
    ctx.store_derivative(kind, path, media_type, width, height, folder=_folder(kind))


def _drop(ctx: StepContext, kind: str) -> None:
    row = ctx.derivative(kind)
    if row is not None:
        ctx.storage.delete_prefix(ctx.artefact.storage_prefix + _folder(kind))
        ctx.db.delete(row)


def _picture_copies(ctx: StepContext, drawn: list[Box]) -> list[str]:
    source = ctx.derivative("web_image") or ctx.derivative("poster")
    if source is None:
        return []
    path = ctx.fetch(source.object_key, "source.jpg")
    variants = {"redacted": drawn if drawn else None}
    if ctx.artefact.kind in PEOPLE:
        variants["faceless"] = drawn + _face_boxes(path)
    made = []
    for variant, boxes in variants.items():
        kinds = [f"{variant}_{source.kind}"] + ([f"{variant}_thumbnail"] if source.kind == "web_image" else [])
        if boxes is None:
            for kind in kinds:
                _drop(ctx, kind)
            continue
        out = ctx.work / f"{variant}.jpg"
        _store(ctx, kinds[0], out, "image/jpeg", *blur_picture(path, out, boxes))
        if len(kinds) > 1:
            thumb = ctx.work / f"{variant}_thumb.jpg"
            size = blur_picture(out, thumb, [], long_side=images.THUMB_LONG_SIDE)
            _store(ctx, kinds[1], thumb, "image/jpeg", *size)
        made += kinds
    return made


def _recording_copy(ctx: StepContext, drawn: list[Box], sound: list[tuple[float, float]]) -> list[str]:
    proxy = ctx.derivative("proxy")
    video_boxes = drawn if ctx.artefact.kind == ArtefactKind.VIDEO_DIARY else []
    if proxy is None or not (sound or video_boxes):
        _drop(ctx, "redacted_proxy")
        return []
    source = ctx.fetch(proxy.object_key, "proxy" + (".mp4" if proxy.media_type.startswith("video/") else ".m4a"))
    out = ctx.work / f"redacted{source.suffix}"
    redact_recording(source, out, sound=sound, boxes=video_boxes)
    _store(ctx, "redacted_proxy", out, proxy.media_type, proxy.width, proxy.height)
    return ["redacted_proxy"]


def build_redacted_media(services: Services, artefact_id: uuid.UUID) -> list[str]:
    """(Re)make an item's redacted copies; returns the kinds made. Safe to run twice."""
    with services.session() as db, tempfile.TemporaryDirectory(prefix="chorus-redact-") as work:
        artefact = db.get(Artefact, artefact_id)
        if artefact is None or artefact.status != ArtefactStatus.READY:
            return []  # withdrawn items are erased, and unfinished ones get copies once reviewed
        ctx = StepContext(services, db, artefact, Path(work))
        drawn = [Box(r.x, r.y, r.width, r.height) for r in redactions_of(db, artefact.id, "box")]
        sound = [(r.t_start, r.t_end) for r in redactions_of(db, artefact.id, "audio")]
        made = _picture_copies(ctx, drawn) + _recording_copy(ctx, drawn, sound)
        ctx.ensure_live()
        db.commit()
        return made

