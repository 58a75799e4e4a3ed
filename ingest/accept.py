"""Accepting an upload: decide its type by content, strip identifying metadata, store the clean
master with its checksum, and record it. Nothing is acknowledged before all of that has happened.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.audit import record_event
from archive.consent import refresh_consent
from archive.models import Artefact, ArtefactKind, Derivative, Participant, Programme, TagSource, TagStatus, ThemeTag
from archive.models.base import new_uuid
from archive.principal import Principal
from archive.storage import StorageError
from archive.programmes import programme_framework
from media.av import MediaError, MediaRejected, probe, strip_metadata as strip_av_metadata
from media.images import BadImage, strip_metadata as strip_image_metadata

from .pipeline import Made, derivative_key, picture_derivatives, recorded_derivative
from .sniff import UnsupportedFile, sniff

MB = 1024 * 1024
MAX_BYTES = {
    ArtefactKind.PHOTO: 30 * MB,
    ArtefactKind.DRAWING: 30 * MB,
    ArtefactKind.VOICE_NOTE: 60 * MB,
    ArtefactKind.VIDEO_DIARY: 300 * MB,
}
FAMILIES = {
    ArtefactKind.PHOTO: {"image"},
    ArtefactKind.DRAWING: {"image"},
    ArtefactKind.VOICE_NOTE: {"audio"},
    ArtefactKind.VIDEO_DIARY: {"video"},
}
WANTED = {
    ArtefactKind.PHOTO: "a photo",
    ArtefactKind.DRAWING: "a photo of a drawing",
    ArtefactKind.VOICE_NOTE: "a voice recording",
    ArtefactKind.VIDEO_DIARY: "a video",
}
PLACES = ("home", "school", "street", "park", "shop", "bus", "online")
MAX_TITLE = 200
MAX_STORY = 20_000
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


class UploadRejected(Exception):
    """The upload cannot be accepted; ``message`` is written for a child or their facilitator,
    and ``field`` names the form field it is about (the file, unless said otherwise)."""

    def __init__(self, message: str, status: int = 422, field: str = "media"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Submission:
    kind: ArtefactKind
    title: str = ""
    story: str = ""
    place: str | None = None
    upload_id: str | None = None
    original_name: str | None = None
    themes: tuple[str, ...] = field(default_factory=tuple)


def clean_text(value: str, limit: int, what: str, field: str) -> str:
    """Normalise user text: NFC, no control characters except line breaks, length-capped with a message."""
    value = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n")
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C" or ch == "\u200d")
    value = value.strip()
    if len(value) > limit:
        raise UploadRejected(f"The {what} is too long: please keep it under {limit:,} characters.", 413, field)
    return value


def safe_original_name(name: str | None) -> str | None:
    """The device's file name as harmless metadata: last path part, printable, at most 120 characters."""
    if not name:
        return None
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    return name.strip()[:120] or None


def _validate(db: Session, participant: Participant, submission: Submission) -> Submission:
    if submission.upload_id is not None and not UPLOAD_ID.fullmatch(submission.upload_id):
        raise UploadRejected("This upload could not be matched up. Please try again.", 400)
    if submission.place is not None and submission.place not in PLACES:
        raise UploadRejected("Please choose where it happened from the list.", 400, "place")
    framework = programme_framework(db.get(Programme, participant.programme_id))
    unknown = [code for code in submission.themes if code not in framework.codes]
    if unknown:
        raise UploadRejected("Please choose the themes from the pictures shown.", 400, "themes")
    title = clean_text(submission.title, MAX_TITLE, "title", "title")
    story = clean_text(submission.story, MAX_STORY, "story", "story")
    if submission.kind == ArtefactKind.TEXT_STORY and not story:
        raise UploadRejected("Please write your story before sending it.", 400, "story")
    return Submission(submission.kind, title, story, submission.place, submission.upload_id,
                      safe_original_name(submission.original_name), tuple(dict.fromkeys(submission.themes)))


def _existing(db: Session, participant: Participant, upload_id: str | None) -> Artefact | None:
    if upload_id is None:
        return None
    return db.scalar(select(Artefact).where(Artefact.participant_id == participant.id, Artefact.upload_id == upload_id))


def _clean_master(kind: ArtefactKind, upload: Path, work: Path) -> tuple[Path, str, list[Made]]:
    """Check the file is what it claims by content, and write the master without identifying metadata.

    A picture's web image and thumbnail come from the same decode that proves it whole, so a
    picture is decoded once in all; they are stored and recorded with the master.
    """
    size = upload.stat().st_size
    if size > MAX_BYTES[kind]:
        raise UploadRejected(f"This file is too big. Please choose one under {MAX_BYTES[kind] // MB} MB.", 413)
    try:
        sniffed = sniff(upload, expect=next(iter(FAMILIES[kind])))
    except UnsupportedFile as exc:
        raise UploadRejected(exc.message, 415) from None
    if sniffed.kind_family not in FAMILIES[kind] and not sniffed.needs_probe:
        raise UploadRejected(f"This doesn't look like {WANTED[kind]}. Please choose {WANTED[kind]}.", 415)
    clean = work / f"master{sniffed.extension}"
    if sniffed.kind_family == "image":
        try:
            stripped = strip_image_metadata(upload, clean, expected_media_type=sniffed.media_type, derivatives_dir=work)
        except BadImage as exc:
            raise UploadRejected(exc.message, 422) from None
        return clean, stripped.media_type, picture_derivatives(stripped.derivatives)
    try:
        probed = probe(upload, media_type=sniffed.media_type)
        family = "video" if probed.has_video else "audio"
        if family not in FAMILIES[kind]:
            raise UploadRejected(f"This doesn't look like {WANTED[kind]}. Please choose {WANTED[kind]}.", 415)
        strip_av_metadata(upload, clean, probed)
    except MediaRejected as exc:
        raise UploadRejected(str(exc), 422) from None
    except MediaError:
        raise UploadRejected("This recording could not be read. It may be damaged: please try recording it again.", 422) from None
    return clean, sniffed.media_type, []


def accept_upload(
    db: Session,
    storage,
    actor: Principal,
    participant: Participant,
    submission: Submission,
    upload: Path | None = None,
) -> tuple[Artefact, bool]:
    """Store and record one upload; returns (artefact, created).

    A repeated ``upload_id`` from the same participant returns the first artefact with
    ``created=False`` and stores nothing. Raises UploadRejected (with an HTTP status) for
    anything refused; then no row and no stored object remain. Commits on success.
    """
    existing = _existing(db, participant, submission.upload_id)
    if existing is not None:
        return existing, False
    submission = _validate(db, participant, submission)
    artefact = Artefact(
        id=new_uuid(), programme_id=participant.programme_id, session_id=participant.session_id,
        participant_id=participant.id, kind=submission.kind, title=submission.title, story=submission.story,
        place=submission.place, upload_id=submission.upload_id, original_name=submission.original_name,
    )
    derivatives: list[Derivative] = []
    with tempfile.TemporaryDirectory(prefix="chorus-upload-") as work:
        if submission.kind != ArtefactKind.TEXT_STORY:
            if upload is None:
                raise UploadRejected(f"Please choose {WANTED[submission.kind]} to send.", 400)
            clean, media_type, made = _clean_master(submission.kind, upload, Path(work))
            derivatives = _store(storage, artefact, clean, made)
            artefact.media_type = media_type
        return _record(db, storage, actor, participant, artefact, submission, derivatives)


def _store(storage, artefact: Artefact, master: Path, made: list[Made]) -> list[Derivative]:
    """Store the master and the derivatives made with it, in one batch; returns their rows-to-be."""
    try:
        stored = storage.put_many([(f"{artefact.storage_prefix}master", master)]
                                  + [(derivative_key(artefact, m.kind), m.path) for m in made])
    except BaseException:
        # Each object is whole, but the batch may be part-stored: nothing may stay without its row.
        with contextlib.suppress(StorageError):
            storage.delete_prefix(artefact.storage_prefix)
        raise
    artefact.master_key, artefact.sha256, artefact.size_bytes = stored[0].key, stored[0].sha256, stored[0].size
    return [recorded_derivative(artefact.id, m.kind, obj, m.media_type, m.width, m.height) for m, obj in zip(made, stored[1:])]


def _record(
    db: Session, storage, actor: Principal, participant: Participant, artefact: Artefact, submission: Submission,
    derivatives: list[Derivative],
) -> tuple[Artefact, bool]:
    programme = db.get(Programme, participant.programme_id)
    try:
        db.add(artefact)
        db.add_all(derivatives)
        for code in submission.themes:
            db.add(ThemeTag(artefact_id=artefact.id, framework=programme.framework, theme=code,
                            source=TagSource.PARTICIPANT, status=TagStatus.SUGGESTED))
        db.flush()
        refresh_consent(db, participant)
        record_event(db, actor, "artefact.received", "artefact", artefact.id, kind=artefact.kind.value)
        db.commit()
    except IntegrityError:
        # The same upload_id raced in from a retry: keep the first, drop this copy.
        db.rollback()
        storage.delete_prefix(artefact.storage_prefix)
        first = _existing(db, participant, submission.upload_id)
        if first is None:
            raise
        return first, False
    except BaseException:
        db.rollback()
        storage.delete_prefix(artefact.storage_prefix)
        raise
    return artefact, True
