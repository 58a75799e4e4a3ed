"""What the share pages need beyond accepting one upload: the child-friendly theme picks, the
limits a participant is told before sending, and a photo with a voice note telling its story.

No Flask here: the web views and the facilitator's pages call these, and tests call them directly.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ingest.accept import MAX_BYTES, MB, Submission, UploadRejected, accept_upload
from media.av import VIDEO_MAX_SECONDS, VOICE_NOTE_MAX_SECONDS

from .audit import record_event
from .frameworks import Framework
from .models import Artefact, ArtefactKind, Participant, ThemeTag
from .principal import Principal

# The icons a child picks from, in the order they are shown. Each maps onto the programme
# framework's themes drawn with the same icon; the two that no shipped framework draws map
# onto the theme that covers them (the determinants' "place" covers play spaces and feeling
# safe out and about). A pick that maps onto nothing in a programme's framework is not offered.
THEME_PICKS = (
    "home", "food", "school", "getting_around", "money", "family",
    "friends", "places_to_play", "feeling_safe", "health", "feelings",
)
_NEAREST_ICON = {"places_to_play": "place", "feeling_safe": "place"}
PLACE_PICKS = ("home", "school", "street", "park", "shop", "bus", "online")

MAX_SECONDS = {ArtefactKind.VOICE_NOTE: VOICE_NOTE_MAX_SECONDS, ArtefactKind.VIDEO_DIARY: VIDEO_MAX_SECONDS}


def theme_codes_for_pick(framework: Framework, pick: str) -> tuple[str, ...]:
    """The framework's theme codes a child-friendly pick stands for (empty when none fits)."""
    if pick not in THEME_PICKS:
        return ()
    codes = tuple(t.code for t in framework.themes if t.icon == pick)
    if not codes and pick in _NEAREST_ICON:
        codes = tuple(t.code for t in framework.themes if t.icon == _NEAREST_ICON[pick])
    return codes


def offered_picks(framework: Framework) -> tuple[str, ...]:
    """The picks worth showing for this framework: those that stand for at least one theme."""
    return tuple(p for p in THEME_PICKS if theme_codes_for_pick(framework, p))


def theme_codes(framework: Framework, picks: Iterable[str]) -> tuple[str, ...]:
    """The participant's picks as theme codes, each once, in the framework's order.

    Raises UploadRejected for a pick that is not offered, as a tampered form would send.
    """
    wanted: set[str] = set()
    for pick in picks:
        codes = theme_codes_for_pick(framework, pick)
        if not codes:
            raise UploadRejected("Please choose the themes from the pictures shown.", 400, "themes")
        wanted.update(codes)
    return tuple(code for code in framework.codes if code in wanted)


@dataclass(frozen=True)
class Limits:
    """What a participant is told before sending: the file size and, for recordings, the length."""

    max_bytes: int
    max_seconds: int | None

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MB

    @property
    def max_minutes(self) -> int | None:
        return None if self.max_seconds is None else self.max_seconds // 60


def limits_for(kind: ArtefactKind, max_request_bytes: int) -> Limits | None:
    """The limits the upload acceptor enforces for this kind, or None for a written story.

    The request limit (settings.max_request_bytes) can be lower than the acceptor's, and then
    it is the one a participant meets first.
    """
    if kind not in MAX_BYTES:
        return None
    return Limits(min(MAX_BYTES[kind], max_request_bytes), MAX_SECONDS.get(kind))


def voice_note_upload_id(upload_id: str | None) -> str | None:
    """The voice note's own upload id, derived from the photo's so a retried form finds both."""
    return None if upload_id is None else f"{upload_id[:58]}-voice"


def share_with_voice_note(
    db: Session,
    storage,
    actor: Principal,
    participant: Participant,
    photo: Submission,
    photo_file: Path | None,
    voice_file: Path,
) -> tuple[Artefact, Artefact, bool]:
    """Store a photo and a voice note telling its story, the voice note attached to the photo.

    Returns (photo, voice note, created). Both or neither: when the voice note is refused the
    photo made by this call is removed again and UploadRejected names the voice note's field.
    A retry with the same upload id returns the pair stored the first time.
    """
    item, created = accept_upload(db, storage, actor, participant, photo, photo_file)
    # The voice note is the photo's story: the participant's place and picks are about it too.
    note_submission = Submission(
        kind=ArtefactKind.VOICE_NOTE, title=item.title, place=photo.place, themes=photo.themes,
        upload_id=voice_note_upload_id(photo.upload_id),
    )
    try:
        note, note_created = accept_upload(db, storage, actor, participant, note_submission, voice_file)
    except UploadRejected as exc:
        if created:
            _discard(db, storage, actor, item)
        raise UploadRejected(exc.message, exc.status, "voice_note") from None
    except BaseException:
        if created:
            _discard(db, storage, actor, item)
        raise
    if note.attached_to_id != item.id:
        note.attached_to_id = item.id
        db.commit()
    return item, note, created or note_created


def _discard(db: Session, storage, actor: Principal, artefact: Artefact) -> None:
    """Undo an upload this request just accepted, before any job has seen it: rows and stored objects."""
    artefact_id: uuid.UUID = artefact.id
    db.execute(delete(ThemeTag).where(ThemeTag.artefact_id == artefact_id))
    db.delete(artefact)
    record_event(db, actor, "artefact.discarded", "artefact", artefact_id, reason="its voice note was refused")
    db.commit()
    storage.delete_prefix(f"artefacts/{artefact_id}/")


def spool(file_storage, work: str) -> Path | None:
    """Write an uploaded file to disk in `work` (never into memory); None when nothing was chosen."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        return None
    path = Path(work) / f"upload-{uuid.uuid4().hex}"
    file_storage.save(path)
    return path


def spool_dir():
    return tempfile.TemporaryDirectory(prefix="chorus-web-")
