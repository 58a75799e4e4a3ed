"""Which copy of a picture or recording a reader is given: the original, a redacted one, or none.

The team sees originals. Everyone else (analysts, reports, exhibits) gets:
- pictures of people (photos, video frames): the "faceless" copy, with detected faces and any
  boxes a facilitator drew blurred, unless the participant agreed to their face being shown; then
  the "redacted" copy if boxes were drawn, else the original;
- drawings: the redacted copy if boxes were drawn, else the original;
- recordings: only with the voice flag (a video also needs the face flag, because its frames move
  and one detected frame cannot vouch for all of them), and the bleeped copy once any stretch was
  marked; otherwise nothing, and the page shows the transcript instead;
- never the 16 kHz working audio, and never the stored captions (captions beyond the team are made
  from the redacted transcript).

A copy that should be used but has not been made yet means "not shown", never the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..consent import Context, allows
from ..models import Artefact, ArtefactKind, Derivative, Redaction
from ..principal import Principal

PICTURES = ("web_image", "thumbnail", "poster")
PEOPLE_PICTURES = (ArtefactKind.PHOTO, ArtefactKind.VIDEO_DIARY)
TEAM_CONTEXTS = (Context.OWNER, Context.TEAM)


@dataclass(frozen=True)
class MediaState:
    """What exists for one artefact: its derivative kinds and which kinds of redaction it has."""

    available: frozenset[str]
    boxes: bool
    sound: bool


def media_state(db: Session, artefact: Artefact) -> MediaState:
    kinds = frozenset(db.scalars(select(Derivative.kind).where(Derivative.artefact_id == artefact.id)))
    redactions = set(db.scalars(select(Redaction.kind).where(Redaction.artefact_id == artefact.id)))
    return MediaState(available=kinds, boxes="box" in redactions, sound="audio" in redactions)


def _wanted(context: Context, artefact: Artefact, kind: str, state: MediaState) -> str | None:
    if context in TEAM_CONTEXTS:
        return kind
    if kind in PICTURES:
        if artefact.kind in PEOPLE_PICTURES and not artefact.consent_face:
            return f"faceless_{kind}"
        return f"redacted_{kind}" if state.boxes else kind
    if kind == "proxy":
        if not artefact.consent_voice or (artefact.kind == ArtefactKind.VIDEO_DIARY and not artefact.consent_face):
            return None
        return "redacted_proxy" if state.sound or (state.boxes and artefact.kind == ArtefactKind.VIDEO_DIARY) else kind
    if kind == "waveform":
        return kind  # loudness over time, nothing else
    return None


def shown_derivative(principal: Principal, context: Context, artefact: Artefact, kind: str,
                     state: MediaState) -> str | None:
    """The derivative kind to serve for a request for `kind`, or None when nothing may be shown."""
    if not allows(principal, context, artefact):
        return None
    wanted = _wanted(context, artefact, kind, state)
    return wanted if wanted in state.available else None
