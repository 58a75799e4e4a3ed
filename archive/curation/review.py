"""Whether an item may leave the team: the review that report and exhibit use wait for.

The consent gate (``archive.consent``) lets an item reach report or exhibit use only once
``Artefact.reviewed_at`` is set. Setting it is this module's job, and it refuses while anything
a facilitator must look at is still open: processing not finished, a transcript not approved,
a likely personal detail not yet decided. The caller commits, then queues
``refresh_index_job`` (the index holds the reviewed flag).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..audit import record_event
from ..models import Artefact, ArtefactStatus, PersonalDetailFlag, PipelineStep, TranscriptStatus, utcnow
from ..principal import Principal
from .guards import CurationError, ensure_live

# What a facilitator may decide about a flagged personal detail (redaction comes with its own tool).
FLAG_DECISIONS = ("kept", "not_personal")


@dataclass(frozen=True)
class Blocker:
    code: str
    message: str


def blockers(artefact: Artefact, open_flags: int) -> list[Blocker]:
    """What still stands between this item and report or exhibit use; empty when it can be reviewed."""
    found = []
    if artefact.status != ArtefactStatus.READY:
        found.append(Blocker("processing", "It has not finished processing."))
    transcript = artefact.transcript
    if transcript is not None and not transcript.no_speech and transcript.status != TranscriptStatus.APPROVED:
        found.append(Blocker("transcript", "Its transcript has not been approved."))
    if open_flags:
        found.append(Blocker("personal_details", f"{open_flags} possible personal detail(s) need a decision."))
    return found


def open_flag_counts(db: Session, artefact_ids: list) -> dict:
    """Flagged personal details not yet decided, per artefact id."""
    if not artefact_ids:
        return {}
    rows = db.execute(
        select(PersonalDetailFlag.artefact_id, func.count())
        .where(PersonalDetailFlag.artefact_id.in_(artefact_ids), PersonalDetailFlag.status == "flagged")
        .group_by(PersonalDetailFlag.artefact_id)
    )
    return dict(rows.all())


def steps_by_artefact(db: Session, artefact_ids: list) -> dict:
    """Each artefact's pipeline steps in order, for showing "transcribe: failed: reason" and a retry."""
    steps: dict = {artefact_id: [] for artefact_id in artefact_ids}
    if artefact_ids:
        query = select(PipelineStep).where(PipelineStep.artefact_id.in_(artefact_ids)).order_by(PipelineStep.position)
        for step in db.scalars(query):
            steps[step.artefact_id].append(step)
    return steps


def mark_reviewed(db: Session, actor: Principal, artefact: Artefact) -> None:
    ensure_live(db, artefact)
    remaining = blockers(artefact, open_flag_counts(db, [artefact.id]).get(artefact.id, 0))
    if remaining:
        raise CurationError("This item cannot be marked as reviewed yet: " + " ".join(b.message for b in remaining))
    artefact.reviewed_at, artefact.reviewed_by_id = utcnow(), actor.user_id
    record_event(db, actor, "artefact.reviewed", "artefact", artefact.id)


def reopen(db: Session, actor: Principal, artefact: Artefact) -> None:
    """Take the item back to the team only, for another look; report and exhibit lose it at once."""
    ensure_live(db, artefact)
    if artefact.reviewed_at is None:
        return
    artefact.reviewed_at = artefact.reviewed_by_id = None
    record_event(db, actor, "artefact.reopened", "artefact", artefact.id)


def decide_flag(db: Session, actor: Principal, artefact: Artefact, flag_id: int, decision: str) -> PersonalDetailFlag:
    ensure_live(db, artefact)
    if decision not in FLAG_DECISIONS:
        raise CurationError("Choose whether to keep the words or mark them as not personal.")
    flag = db.get(PersonalDetailFlag, flag_id)
    if flag is None or flag.artefact_id != artefact.id:
        raise CurationError("That flag is no longer on this item. Reload the page.")
    flag.status, flag.reviewed_by_id, flag.reviewed_at = decision, actor.user_id, utcnow()
    record_event(db, actor, "personal_detail.decided", "artefact", artefact.id, flag=flag.id, decision=decision)
    return flag


@dataclass(frozen=True)
class QueueFilter:
    session_id: int | None = None
    waiting: str = "all"  # all, failed, processing, transcript, personal_details, ready_to_review


def review_queue(db: Session, programme_id: int, chosen: QueueFilter = QueueFilter()) -> list[tuple[Artefact, list[Blocker]]]:
    """Unreviewed items of one programme, oldest first, with what each is waiting for.

    Withdrawn items are never listed; failed ones are, so someone retries or removes them.
    """
    query = (
        select(Artefact)
        .where(Artefact.programme_id == programme_id, Artefact.reviewed_at.is_(None),
               Artefact.status != ArtefactStatus.WITHDRAWN)
        .options(selectinload(Artefact.transcript))
        .order_by(Artefact.created_at, Artefact.id)
    )
    if chosen.session_id is not None:
        query = query.where(Artefact.session_id == chosen.session_id)
    artefacts = list(db.scalars(query))
    flags = open_flag_counts(db, [artefact.id for artefact in artefacts])
    rows = [(artefact, blockers(artefact, flags.get(artefact.id, 0))) for artefact in artefacts]
    if chosen.waiting == "failed":
        return [(a, b) for a, b in rows if a.status == ArtefactStatus.FAILED]
    if chosen.waiting == "ready_to_review":
        return [(a, b) for a, b in rows if not b]
    if chosen.waiting != "all":
        return [(a, b) for a, b in rows if any(blocker.code == chosen.waiting for blocker in b)]
    return rows

