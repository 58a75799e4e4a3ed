"""Giving, narrowing and withdrawing consent: appending records and applying them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit import record_event
from .consent import refresh_consent
from .models import (
    Artefact,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    ConsentRecord,
    ConsentScope,
    Participant,
    utcnow,
)
from .principal import Principal


class ConsentError(ValueError):
    """A consent decision that cannot be recorded as given; the message says why."""


@dataclass(frozen=True)
class ConsentChoice:
    level: ConsentLevel
    credit: bool = False
    face: bool = False
    voice: bool = False
    giver: ConsentGiver = ConsentGiver.PARTICIPANT
    method: ConsentMethod = ConsentMethod.IN_APP
    witness: str | None = None
    child_assent: bool | None = None


def record_consent(
    db: Session,
    actor: Principal,
    participant: Participant,
    choice: ConsentChoice,
    artefact: Artefact | None = None,
    at: datetime | None = None,
) -> tuple[ConsentRecord, list[Artefact]]:
    """Append a consent record (for the participant's default, or narrowing one artefact) and apply it.

    `at` dates a decision given earlier (a paper form entered later); it matters because a
    child's own consent counts by their age when they gave it. Returns the record and the
    artefacts whose effective consent changed. Raises ConsentError
    for a verbal consent without a witness or an artefact that is not the participant's.
    Nothing is committed: the caller owns the transaction.
    """
    if choice.method == ConsentMethod.VERBAL_WITNESSED and not (choice.witness or "").strip():
        raise ConsentError("Verbal consent needs the name or role of a witness.")
    if artefact is not None and artefact.participant_id != participant.id:
        raise ConsentError("That item belongs to someone else.")
    scope = ConsentScope.PARTICIPANT if artefact is None else ConsentScope.ARTEFACT
    artefact_id = None if artefact is None else artefact.id
    latest = db.scalar(
        select(func.max(ConsentRecord.version)).where(
            ConsentRecord.participant_id == participant.id,
            ConsentRecord.artefact_id.is_(None) if artefact_id is None else ConsentRecord.artefact_id == artefact_id,
        )
    )
    record = ConsentRecord(
        participant_id=participant.id,
        artefact_id=artefact_id,
        scope=scope,
        version=(latest or 0) + 1,
        level=choice.level,
        credit=choice.credit,
        face=choice.face,
        voice=choice.voice,
        giver=choice.giver,
        method=choice.method,
        witness=(choice.witness or "").strip()[:200] or None,
        child_assent=choice.child_assent,
        recorded_by_id=actor.user_id,
        created_at=at or utcnow(),
    )
    db.add(record)
    db.flush()
    changed = refresh_consent(db, participant)
    record_event(
        db, actor, "consent.recorded", "participant", participant.id,
        scope=scope.value, artefact=str(artefact_id) if artefact_id else None,
        level=choice.level.label, giver=choice.giver.value, method=choice.method.value,
    )
    return record, changed
