"""Correcting what Whisper heard, and moving a transcript from draft to approved.

A save names the transcript version the editor started from. Segments changed since that
version by someone else are a conflict: the save is refused as a whole and the editor is shown
both texts, because the last write silently winning would lose a colleague's correction of a
child's words. Segments nobody else touched save normally, so two people can share the work.

A corrected segment is locked: re-running transcription (``ingest.steps.transcribe``) keeps it.
Every change is a ``TranscriptRevision`` row and an audit event (which names, never quotes).
The caller commits, then queues ``refresh_index_job`` so search follows the corrected text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..audit import record_event
from ..models import Artefact, Transcript, TranscriptRevision, TranscriptSegment, TranscriptStatus, utcnow
from ..principal import Principal
from .guards import CurationError, ensure_live
from .redaction import carry_over

SPEAKERS = ("child", "young_person", "parent_carer", "facilitator", "other")
MAX_SEGMENT_CHARS = 2000
# Where a transcript may go next; approval is a separate, deliberate step after a check.
NEXT_STATUS = {
    TranscriptStatus.DRAFT: {TranscriptStatus.READY_FOR_CHECK},
    TranscriptStatus.READY_FOR_CHECK: {TranscriptStatus.APPROVED, TranscriptStatus.DRAFT},
    TranscriptStatus.APPROVED: {TranscriptStatus.DRAFT},
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class SegmentEdit:
    segment_id: int
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Conflict:
    segment_id: int
    yours: str
    theirs: str  # the text saved meanwhile


class EditConflict(CurationError):
    def __init__(self, conflicts: list[Conflict], current_version: int):
        self.conflicts = conflicts
        self.current_version = current_version
        count = len(conflicts)
        super().__init__(
            f"Someone else changed {count} of these lines while you were editing. "
            "Nothing was saved: compare the texts, then save again."
        )


def live_transcript(db: Session, artefact: Artefact) -> Transcript:
    """The artefact's transcript, refusing items withdrawn meanwhile."""
    ensure_live(db, artefact)
    if artefact.transcript is None:
        raise CurationError("This item has no transcript to edit.")
    return artefact.transcript


def clean_text(text: str) -> str:
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text or "")).strip()
    if len(text) > MAX_SEGMENT_CHARS:
        raise CurationError(f"A line can be at most {MAX_SEGMENT_CHARS} characters: split it or shorten it.")
    return text


def _check_speaker(speaker: str | None) -> str | None:
    if speaker in (None, ""):
        return None
    if speaker not in SPEAKERS:
        raise CurationError(f'"{speaker}" is not a speaker this transcript can use.')
    return speaker


def _as_of(db: Session, transcript: Transcript, base_version: int) -> dict[int, tuple[str, str | None]]:
    """Each segment's (text, speaker) as the editor saw it at `base_version`, from the revisions since."""
    seen = {segment.id: (segment.text.strip(), segment.speaker) for segment in transcript.segments}
    later = db.scalars(
        select(TranscriptRevision).where(
            TranscriptRevision.artefact_id == transcript.artefact_id, TranscriptRevision.version > base_version
        ).order_by(TranscriptRevision.version.desc())
    )
    for revision in later:  # newest first, so the oldest later revision's "before" wins
        seen[revision.segment_id] = (revision.old_text.strip(), revision.old_speaker)
    return seen


def _split(db: Session, transcript: Transcript, base_version: int, edits: dict[int, SegmentEdit]):
    """The edits that change something, and the ones that collide with a change saved meanwhile.

    A form sends every line; a line the editor left as they saw it is not a change (even if
    someone else has changed it since), and a line both changed to the same words is no conflict.
    """
    seen = _as_of(db, transcript, base_version)
    now = {segment.id: (segment.text.strip(), segment.speaker) for segment in transcript.segments}
    changes, conflicts = [], []
    for sid, edit in sorted(edits.items()):
        mine = (edit.text, edit.speaker)
        if mine == seen[sid] or mine == now[sid]:
            continue
        if now[sid] != seen[sid]:
            conflicts.append(Conflict(segment_id=sid, yours=edit.text, theirs=now[sid][0]))
        else:
            changes.append(edit)
    return changes, conflicts


def save_edits(
    db: Session, actor: Principal, artefact: Artefact, base_version: int, edits: list[SegmentEdit]
) -> list[TranscriptSegment]:
    """Apply a facilitator's corrections; returns the segments that actually changed."""
    transcript = live_transcript(db, artefact)
    by_id = {segment.id: segment for segment in transcript.segments}
    cleaned: dict[int, SegmentEdit] = {}
    for edit in edits:
        if edit.segment_id not in by_id:
            raise CurationError("One of those lines is no longer in this transcript. Reload the page.")
        cleaned[edit.segment_id] = SegmentEdit(edit.segment_id, clean_text(edit.text), _check_speaker(edit.speaker))
    if base_version > transcript.version or base_version < 1:
        raise CurationError("That version of the transcript does not exist. Reload the page.")
    changed, conflicts = _split(db, transcript, base_version, cleaned)
    if conflicts:
        raise EditConflict(conflicts, transcript.version)
    if not changed:
        return []
    _bump_version(db, transcript)
    for edit in changed:
        segment = by_id[edit.segment_id]
        db.add(TranscriptRevision(
            artefact_id=artefact.id, segment_id=segment.id, version=transcript.version,
            old_text=segment.text, new_text=edit.text, old_speaker=segment.speaker, new_speaker=edit.speaker,
            editor_id=actor.user_id,
        ))
        carry_over(db, segment, segment.text, edit.text)
        segment.text, segment.speaker, segment.locked = edit.text, edit.speaker, True
    transcript.edited = True
    if transcript.status == TranscriptStatus.APPROVED:
        # What was approved is no longer what is there: it needs checking again.
        _move(db, actor, artefact, transcript, TranscriptStatus.READY_FOR_CHECK, automatic=True)
    record_event(db, actor, "transcript.edited", "artefact", artefact.id,
                 segments=[edit.segment_id for edit in changed], version=transcript.version)
    return [by_id[edit.segment_id] for edit in changed]


def _bump_version(db: Session, transcript: Transcript) -> None:
    # Compare-and-set in the database: of two saves racing from the same version, the second's
    # UPDATE matches no row (PostgreSQL re-checks the WHERE after the first commits).
    current = transcript.version
    bumped = db.execute(
        update(Transcript).where(Transcript.id == transcript.id, Transcript.version == current).values(version=current + 1)
    ).rowcount
    if bumped != 1:
        raise CurationError("Someone else saved this transcript at the same moment. Reload the page and try again.")


def set_status(db: Session, actor: Principal, artefact: Artefact, status: TranscriptStatus) -> None:
    """Move the transcript on (or back); approval records who approved it."""
    transcript = live_transcript(db, artefact)
    if status == transcript.status:
        return
    if status not in NEXT_STATUS[transcript.status]:
        raise CurationError(
            f"A transcript that is {_label(transcript.status)} cannot become {_label(status)} directly."
        )
    _move(db, actor, artefact, transcript, status)


def _move(db: Session, actor: Principal, artefact: Artefact, transcript: Transcript,
          status: TranscriptStatus, automatic: bool = False) -> None:
    previous, transcript.status = transcript.status, status
    if status == TranscriptStatus.APPROVED:
        transcript.approved_at, transcript.approved_by_id = utcnow(), actor.user_id
    else:
        transcript.approved_at = transcript.approved_by_id = None
    record_event(db, actor, "transcript.status", "artefact", artefact.id,
                 before=previous.value, after=status.value, automatic=automatic)


def _label(status: TranscriptStatus) -> str:
    return status.value.replace("_", " ")


def history(db: Session, artefact: Artefact) -> list[TranscriptRevision]:
    """Every saved correction, newest first."""
    return list(db.scalars(
        select(TranscriptRevision).where(TranscriptRevision.artefact_id == artefact.id)
        .order_by(TranscriptRevision.version.desc(), TranscriptRevision.id)
    ))
