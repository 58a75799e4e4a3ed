"""Withdrawal and erasure.

Withdrawing hides an item at once (status, consent) inside the caller's transaction. Erasure
then removes everything derived from it. Every subsystem that holds a copy of anything
registers an ``Eraser`` here, so a new feature cannot forget its copies: the erasure job runs
them all, and ``remaining`` lets a verification sweep prove nothing is left.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .audit import record_event
from .db import flush_erased_pages
from .consent_records import ConsentChoice, record_consent
from .models import (
    Artefact,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    Derivative,
    ExhibitItem,
    Participant,
    PersonalDetailFlag,
    PipelineStep,
    Redaction,
    ThemeTag,
    Transcript,
    TranscriptRevision,
    utcnow,
)
from .principal import Principal

# Modules that register erasers when imported; listed here so the worker loads every one of them.
ERASER_MODULES = ["archive.erasure", "search.erasure", "archive.exports.erasure"]


@dataclass
class ErasureContext:
    db: Session
    storage: Any  # archive.storage.Storage
    settings: Any  # archive.settings.Settings


@dataclass(frozen=True)
class Eraser:
    name: str
    erase: Callable[[ErasureContext, Artefact], None]
    remaining: Callable[[ErasureContext, Artefact], list[str]]


_ERASERS: dict[str, Eraser] = {}
# Rows that exist only because of an artefact (segments and their locks go with the transcript).
DERIVED_ROWS = (
    ExhibitItem, ThemeTag, PersonalDetailFlag, Redaction, TranscriptRevision, Derivative, Transcript, PipelineStep,
)


def register_eraser(eraser: Eraser) -> Eraser:
    _ERASERS[eraser.name] = eraser
    return eraser


def erasers() -> list[Eraser]:
    for module in ERASER_MODULES:
        importlib.import_module(module)
    return list(_ERASERS.values())


def _withdrawal_choice(actor: Principal) -> ConsentChoice:
    # Staff act on a participant's spoken request; participants act for themselves.
    method = ConsentMethod.IN_APP if actor.kind == "participant" else ConsentMethod.VERBAL_WITNESSED
    witness = None if actor.kind == "participant" else f"staff user {actor.user_id}"
    return ConsentChoice(level=ConsentLevel.NONE, giver=ConsentGiver.PARTICIPANT, method=method, witness=witness)


def withdraw_artefact(db: Session, actor: Principal, artefact: Artefact, reason: str = "withdrawn") -> None:
    """Withdraw one item: from this commit on, no view, search or export shows it.

    Appends a consent record, marks the item withdrawn and audits it; the caller commits and
    then queues ``erase_artefact``. Withdrawing twice is harmless.
    """
    if artefact.status == ArtefactStatus.WITHDRAWN:
        return
    artefact.status = ArtefactStatus.WITHDRAWN
    artefact.withdrawn_at = utcnow()
    record_consent(db, actor, artefact.participant, _withdrawal_choice(actor), artefact=artefact)
    record_event(db, actor, "artefact.withdrawn", "artefact", artefact.id, reason=reason[:64])
    # A voice note telling a photo's story means nothing without the photo: it goes too.
    for attached in db.scalars(select(Artefact).where(Artefact.attached_to_id == artefact.id)).all():
        withdraw_artefact(db, actor, attached, reason="withdrawn with the item it belongs to")


def withdraw_participant(db: Session, actor: Principal, participant: Participant) -> list[uuid.UUID]:
    """Withdraw everything a participant shared, and their consent for anything new, in one step."""
    items = db.scalars(
        select(Artefact).where(
            Artefact.participant_id == participant.id, Artefact.status != ArtefactStatus.WITHDRAWN
        )
    ).all()
    for artefact in items:
        withdraw_artefact(db, actor, artefact, reason="withdrew everything")
    record_consent(db, actor, participant, _withdrawal_choice(actor))
    return [a.id for a in items]


def erase_artefact(ctx: ErasureContext, artefact_id: uuid.UUID, actor: Principal) -> list[str]:
    """Remove every copy of a withdrawn artefact, leave a content-free tombstone, and verify.

    Idempotent and safe to resume after a crash. Returns what is still left (empty when the
    erasure is complete); the tombstone's ``erased_at`` is set only when nothing is left.
    Raises ValueError for an item that has not been withdrawn.
    """
    artefact = ctx.db.get(Artefact, artefact_id)
    if artefact is None:
        return []
    if artefact.status != ArtefactStatus.WITHDRAWN:
        raise ValueError(f"artefact {artefact_id} has not been withdrawn")
    registered = erasers()
    for eraser in registered:
        eraser.erase(ctx, artefact)
    ctx.db.flush()
    left = [f"{e.name}: {what}" for e in registered for what in e.remaining(ctx, artefact)]
    if not left and artefact.erased_at is None:
        artefact.erased_at = utcnow()
        record_event(ctx.db, actor, "artefact.erased", "artefact", artefact.id)
    ctx.db.commit()
    flush_erased_pages(ctx.db.get_bind())
    # Callers queue erasure for the item they withdrew; what was attached to it is erased with it.
    attached = select(Artefact.id).where(
        Artefact.attached_to_id == artefact_id, Artefact.status == ArtefactStatus.WITHDRAWN
    )
    for attached_id in ctx.db.scalars(attached).all():
        left += erase_artefact(ctx, attached_id, actor)
    return left


def _erase_rows(ctx: ErasureContext, artefact: Artefact) -> None:
    for model in DERIVED_ROWS:
        ctx.db.execute(delete(model).where(model.artefact_id == artefact.id))
    ctx.db.expire(artefact, ["derivatives", "tags", "transcript"])
    artefact.title = ""
    artefact.story = ""
    artefact.image_text = ""
    artefact.place = None
    artefact.failure_reason = None
    artefact.upload_id = None
    artefact.master_key = None
    artefact.sha256 = None
    artefact.size_bytes = None
    artefact.media_type = None


def _rows_left(ctx: ErasureContext, artefact: Artefact) -> list[str]:
    left = []
    for model in DERIVED_ROWS:
        if ctx.db.scalar(select(model.id).where(model.artefact_id == artefact.id).limit(1)) is not None:
            left.append(f"{model.__tablename__} rows")
    if artefact.title or artefact.story or artefact.image_text or artefact.master_key or artefact.sha256:
        left.append("artefact content fields")
    return left


def _erase_objects(ctx: ErasureContext, artefact: Artefact) -> None:
    ctx.storage.delete_prefix(artefact.storage_prefix)


def _objects_left(ctx: ErasureContext, artefact: Artefact) -> list[str]:
    return [f"object {key}" for key in ctx.storage.iter_keys(artefact.storage_prefix)]


register_eraser(Eraser("database", _erase_rows, _rows_left))
register_eraser(Eraser("storage", _erase_objects, _objects_left))
