"""The steps a participant, a parent or carer, or a facilitator takes to give consent.

The gate (``archive.consent``) decides what a history of records allows; this module decides
which records to append for each journey:

* a participant's own choice, recorded once however often the same form is sent (a back button
  and a second press of "Save" must not add a second, identical record);
* a parent or carer's consent for a child under 13, given on the child's device or through a
  single-use link. It is recorded narrowed by the child's own latest choice, so the child's
  "no" stands (the child's assent) and the parent's record is never wider than what the child
  agreed to;
* verbal consent taken by a facilitator, with a named witness.

Who counts as under 13 is the gate's own rule (``archive.consent.under_13_at``): the month of
birth when known, otherwise the age band, counting the whole 11-15 band as under 13.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .audit import record_event
from .consent import under_13_at
from .consent_records import ConsentChoice, ConsentError, record_consent
from .models import (
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentMethod,
    ConsentRecord,
    ConsentScope,
    ParentConsentLink,
    Participant,
    utcnow,
)
from .principal import Principal

# Long enough for a parent to see it after work or at the weekend, short enough that a lost
# screenshot of the QR code soon stops working.
PARENT_LINK_LIFETIME = timedelta(days=7)


class ParentLinkError(ValueError):
    """A parent link that cannot be used. ``reason`` is "unknown", "used" or "expired", for the page
    to say in the reader's language; the message is the English wording."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class ChildChoosesFirst(ConsentError):
    """A parent's consent, or a link for one, asked for before the child gave their own answer."""

    def __init__(self):
        super().__init__("The child makes their own choice first, then a parent or carer adds theirs.")


def needs_parent(participant: Participant, now: datetime | None = None) -> bool:
    """Does anything this participant shares need a parent or carer's consent to leave the team?"""
    return under_13_at(participant, now or utcnow())


def _default_records(db: Session, participant: Participant) -> list[ConsentRecord]:
    return list(db.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.participant_id == participant.id, ConsentRecord.scope == ConsentScope.PARTICIPANT)
        .order_by(ConsentRecord.version)
    ))


def latest_own_choice(db: Session, participant: Participant) -> ConsentRecord | None:
    """The participant's own latest default choice (not a parent's), or None before they chose."""
    own = [r for r in _default_records(db, participant) if r.giver == ConsentGiver.PARTICIPANT]
    return own[-1] if own else None


def latest_parent_consent(db: Session, participant: Participant) -> ConsentRecord | None:
    parents = [r for r in _default_records(db, participant) if r.giver == ConsentGiver.PARENT_CARER]
    return parents[-1] if parents else None


@dataclass(frozen=True)
class ConsentStatus:
    """Where a participant is in the consent journey, for their own pages and the facilitator's."""

    chosen: bool  # the participant made their own choice
    needs_parent: bool
    parent_given: bool

    @property
    def waiting_for_parent(self) -> bool:
        return self.chosen and self.needs_parent and not self.parent_given


def consent_status(db: Session, participant: Participant) -> ConsentStatus:
    return ConsentStatus(
        chosen=latest_own_choice(db, participant) is not None,
        needs_parent=needs_parent(participant),
        parent_given=latest_parent_consent(db, participant) is not None,
    )


def _same(record: ConsentRecord | None, choice: ConsentChoice) -> bool:
    return record is not None and (
        record.level, record.credit, record.face, record.voice, record.giver, record.method,
        record.witness, record.child_assent,
    ) == (
        choice.level, choice.credit, choice.face, choice.voice, choice.giver, choice.method,
        (choice.witness or "").strip()[:200] or None, choice.child_assent,
    )


def give_own_consent(
    db: Session, actor: Principal, participant: Participant, choice: ConsentChoice
) -> tuple[ConsentRecord | None, list[Artefact]]:
    """Record the participant's own default choice, unless it repeats their latest word exactly.

    Returns (the new record or None when nothing changed, the artefacts whose consent changed).
    """
    if choice.giver != ConsentGiver.PARTICIPANT:
        raise ConsentError("This step is for the participant's own choice.")
    if _same(latest_own_choice(db, participant), choice):
        return None, []
    return record_consent(db, actor, participant, choice)


def _narrowed_by_child(choice: ConsentChoice, child: ConsentRecord | None) -> ConsentChoice:
    if child is None:
        raise ChildChoosesFirst()
    return replace(
        choice,
        giver=ConsentGiver.PARENT_CARER,
        level=min(choice.level, child.level),
        credit=choice.credit and child.credit,
        face=choice.face and child.face,
        voice=choice.voice and child.voice,
        child_assent=True,
    )


def give_parent_consent(
    db: Session, actor: Principal, participant: Participant, choice: ConsentChoice
) -> tuple[ConsentRecord | None, list[Artefact]]:
    """Record a parent or carer's consent for a child, never wider than the child's own latest choice.

    Raises ConsentError before the child has chosen, or for a verbal consent without a witness.
    A repeat of the parent's latest word records nothing.
    """
    combined = _narrowed_by_child(choice, latest_own_choice(db, participant))
    if _same(latest_parent_consent(db, participant), combined):
        return None, []
    return record_consent(db, actor, participant, combined)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_parent_link(db: Session, actor: Principal, participant: Participant, now: datetime | None = None) -> str:
    """A new single-use token for a parent link; any earlier unused link for the child stops working.

    Returns the token itself, which is shown once and never stored.
    """
    now = now or utcnow()
    if latest_own_choice(db, participant) is None:
        raise ChildChoosesFirst()
    db.execute(
        update(ParentConsentLink)
        .where(
            ParentConsentLink.participant_id == participant.id,
            ParentConsentLink.used_at.is_(None),
            ParentConsentLink.expires_at > now,
        )
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(24)
    link = ParentConsentLink(
        participant_id=participant.id, token_hash=_hash(token), expires_at=now + PARENT_LINK_LIFETIME, created_at=now
    )
    db.add(link)
    db.flush()
    record_event(db, actor, "parent_link.created", "participant", participant.id, link=link.id)
    return token


def open_parent_link(db: Session, token: str, now: datetime | None = None) -> ParentConsentLink:
    """The link a token opens. Raises ParentLinkError for an unknown, spent or expired link."""
    link = db.scalar(select(ParentConsentLink).where(ParentConsentLink.token_hash == _hash(token or "")))
    if link is None:
        raise ParentLinkError("unknown", "This link doesn't work. Please ask for a new one.")
    if link.used_at is not None:
        raise ParentLinkError("used", "This link has already been used, so it can't be used again. Thank you for answering.")
    if link.expires_at <= (now or utcnow()):
        raise ParentLinkError("expired", "This link has expired. Please ask for a new one.")
    return link


def give_parent_consent_by_link(
    db: Session, token: str, choice: ConsentChoice, now: datetime | None = None
) -> tuple[ConsentRecord | None, list[Artefact]]:
    """Record a parent's consent through their link, and spend the link in the same transaction."""
    now = now or utcnow()
    link = open_parent_link(db, token, now)
    # Spend the link first with a guarded UPDATE, so two presses of "Save" (or two tabs) record once.
    spent = db.execute(
        update(ParentConsentLink)
        .where(ParentConsentLink.id == link.id, ParentConsentLink.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise ParentLinkError("used", "This link has already been used, so it can't be used again. Thank you for answering.")
    actor = Principal(kind="parent")
    record, changed = give_parent_consent(
        db, actor, link.participant, replace(choice, method=ConsentMethod.IN_APP, witness=None)
    )
    if record is not None:
        db.execute(
            update(ParentConsentLink).where(ParentConsentLink.id == link.id).values(consent_record_id=record.id)
        )
    return record, changed


def shared_summary(db: Session, participant: Participant) -> dict[ArtefactKind, int]:
    """How many things of each kind the participant has shared and not taken back: what a parent is told."""
    kinds = db.scalars(
        select(Artefact.kind).where(
            Artefact.participant_id == participant.id, Artefact.status != ArtefactStatus.WITHDRAWN
        )
    )
    counts = Counter(kinds)
    return {kind: counts[kind] for kind in ArtefactKind if counts[kind]}


def record_verbal_consent(
    db: Session,
    actor: Principal,
    participant: Participant,
    choice: ConsentChoice,
    witness: str,
    by_parent: bool = False,
) -> tuple[ConsentRecord | None, list[Artefact]]:
    """A facilitator records consent said aloud, with the name or role of a witness.

    ``by_parent``: a parent or carer who is present gives it for a child, who has already given
    their own (verbal or on screen) choice. Raises ConsentError without a witness.
    """
    choice = replace(choice, method=ConsentMethod.VERBAL_WITNESSED, witness=witness)
    if not (witness or "").strip():
        raise ConsentError("Verbal consent needs the name or role of a witness.")
    if by_parent:
        return give_parent_consent(db, actor, participant, choice)
    return give_own_consent(db, actor, participant, replace(choice, giver=ConsentGiver.PARTICIPANT))


__all__ = [
    "ChildChoosesFirst", "ConsentStatus", "PARENT_LINK_LIFETIME", "ParentLinkError", "consent_status",
    "create_parent_link", "give_own_consent", "give_parent_consent", "give_parent_consent_by_link",
    "latest_own_choice", "latest_parent_consent", "needs_parent", "open_parent_link", "record_verbal_consent",
    "shared_summary",
]
